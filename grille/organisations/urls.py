from django.urls import path

from . import views

app_name = "organisations"
urlpatterns = [
    path("organisations/", views.organisation_list, name="list"),
    path("organisations/nouvelle/", views.organisation_create, name="create"),
    path("invitation/<str:token>/", views.join, name="join"),
    path("organisations/<uuid:uuid>/", views.organisation_home, name="home"),
    path("organisations/<uuid:uuid>/partage/", views.share, name="share"),
    path("organisations/<uuid:uuid>/partage/retirer/", views.withdraw, name="withdraw"),
    path("organisations/<uuid:uuid>/membres/", views.members, name="members"),
    path("organisations/<uuid:uuid>/membres/inviter/", views.invite, name="invite"),
    path("organisations/<uuid:uuid>/membres/inviter-une-liste/", views.invite_batch, name="invite_batch"),
    path("organisations/<uuid:uuid>/membres/relancer/", views.remind, name="remind"),
    path("organisations/<uuid:uuid>/membres/<int:member_id>/role/", views.change_role, name="role"),
    path("organisations/<uuid:uuid>/membres/<int:member_id>/retirer/", views.remove_member, name="remove_member"),
    path("organisations/<uuid:uuid>/invitations/<int:invitation_id>/revoquer/", views.revoke_invitation, name="revoke_invitation"),
    path("organisations/<uuid:uuid>/arbitrages/", views.decisions, name="decisions"),
    path("organisations/<uuid:uuid>/arbitrages/<str:code>/", views.decision_detail, name="decision"),
    path("organisations/<uuid:uuid>/arbitrages/<str:code>/commentaires/", views.comment, name="comment"),
    path("organisations/<uuid:uuid>/actions/", views.actions, name="actions"),
    path("organisations/<uuid:uuid>/actions/<int:action_id>/", views.action_edit, name="action_edit"),
    path("organisations/<uuid:uuid>/actions/<int:action_id>/statut/", views.action_status, name="action_status"),
    path("organisations/<uuid:uuid>/actions/<int:action_id>/supprimer/", views.action_delete, name="action_delete"),
    path("organisations/<uuid:uuid>/atelier/", views.workshop, name="workshop"),
    path("organisations/<uuid:uuid>/atelier/direct/", views.workshop_live, name="workshop_live"),
    path("organisations/<uuid:uuid>/rapport.pdf", views.report_pdf, name="report_pdf"),
    path("organisations/<uuid:uuid>/equipe.xlsx", views.team_xlsx, name="team_xlsx"),
]

from . import views_guided  # noqa: E402

urlpatterns += [
    path("organisations/<uuid:uuid>/atelier-guide/", views_guided.guided_setup, name="guided"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/pratique/<int:position>/", views_guided.guided_item, name="guided_item"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/pratique/<int:position>/arbitrage/", views_guided.guided_decide, name="guided_decide"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/pratique/<int:position>/action/", views_guided.guided_action, name="guided_action"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/pratique/<int:position>/commentaire/", views_guided.guided_comment, name="guided_comment"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/aller/", views_guided.guided_move, name="guided_move"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/terminer/", views_guided.guided_end, name="guided_end"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/suivre/", views_guided.guided_follow, name="guided_follow"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/suivre/direct/", views_guided.guided_follow_live, name="guided_follow_live"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/synthese/", views_guided.guided_summary, name="guided_summary"),
    path("organisations/<uuid:uuid>/atelier-guide/<int:session_id>/kit.pdf", views_guided.guided_kit_pdf, name="guided_kit_pdf"),
]
