from django.urls import path

from . import views

app_name = "studies"
urlpatterns = [
    path("etudes/", views.campaign_list, name="list"),
    path("etudes/nouvelle/", views.campaign_create, name="create"),
    path("etudes/<uuid:uuid>/", views.campaign_home, name="home"),
    path("etudes/<uuid:uuid>/modifier/", views.campaign_edit, name="edit"),
    path("etudes/<uuid:uuid>/questions/", views.questions, name="questions"),
    path("etudes/<uuid:uuid>/questions/<int:question_id>/deplacer/", views.question_move, name="question_move"),
    path("etudes/<uuid:uuid>/questions/<int:question_id>/retirer/", views.question_delete, name="question_delete"),
    path("etudes/<uuid:uuid>/invitations/", views.invitees, name="invitees"),
    path("etudes/<uuid:uuid>/invitations/envoyer/", views.send, name="send"),
    path("etudes/<uuid:uuid>/invitations/reessayer/", views.retry_mail, name="retry_mail"),
    path("etudes/<uuid:uuid>/lien-ouvert/", views.open_link, name="open_link"),
    path("etudes/<uuid:uuid>/suivi/", views.tracking, name="tracking"),
    path("etudes/<uuid:uuid>/resultats/", views.dashboard, name="dashboard"),
    path("etudes/<uuid:uuid>/vagues/", views.waves, name="waves"),
    path("etudes/<uuid:uuid>/vagues/<int:wave_id>/correspondance/", views.crosswalk, name="crosswalk"),
    path("etudes/<uuid:uuid>/exports/", views.exports, name="exports"),
    path("etudes/<uuid:uuid>/exports/microdonnees.<str:fmt>", views.export_microdata, name="export_microdata"),
    path("etudes/<uuid:uuid>/exports/agregats.xlsx", views.export_aggregates, name="export_aggregates"),
    path("etudes/<uuid:uuid>/rapport.pdf", views.report_pdf, name="report_pdf"),
    path("etude/i/<str:token>/", views.invited, name="invited"),
    path("etude/o/<str:token>/", views.open_entry, name="open"),
    path("etude/participation/<uuid:uuid>/profil/", views.profile, name="profile"),
    path("etude/participation/<uuid:uuid>/retrait/", views.withdraw, name="withdraw"),
]
