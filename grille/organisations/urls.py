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
