from django.urls import path

from . import views, views_crosswalk, views_history, views_peers

app_name = "assessments"
urlpatterns = [
    path("mes-positionnements/", views_history.assessment_list, name="list"),
    path("positionnements/nouveau/", views.start, name="start"),
    path("reprendre/<str:token>/", views.resume, name="resume"),
    path("positionnements/<uuid:uuid>/lien/", views.resume_link, name="resume_link"),
    path("positionnements/<uuid:uuid>/lien/nouveau/", views.renew_link, name="renew_link"),
    path("positionnements/<uuid:uuid>/lien/envoyer/", views.send_link, name="send_link"),
    path("positionnements/<uuid:uuid>/etape/<int:number>/", views.step, name="step"),
    path("positionnements/<uuid:uuid>/reponses/<str:code>/", views.autosave, name="autosave"),
    path("positionnements/<uuid:uuid>/recapitulatif/", views.recap, name="recap"),
    path("positionnements/<uuid:uuid>/envoyer/", views.submit, name="submit"),
    path("positionnements/<uuid:uuid>/profil/", views.profile, name="profile"),
    path("positionnements/<uuid:uuid>/fiche.pdf", views.profile_pdf, name="profile_pdf"),
    path("positionnements/<uuid:uuid>/reponses.json", views.export_json, name="export_json"),
    path("positionnements/<uuid:uuid>/supprimer/", views.delete, name="delete"),
]
urlpatterns += [
    path("positionnements/<uuid:uuid>/pairs/", views_peers.comparison, name="peers"),
    path("positionnements/<uuid:uuid>/pairs/rejoindre/", views_peers.join, name="peers_join"),
    path("positionnements/<uuid:uuid>/pairs/quitter/", views_peers.leave, name="peers_leave"),
    path(
        "positionnements/<uuid:uuid>/correspondances/<int:pk>/",
        views_crosswalk.read_through,
        name="read_through",
    ),
]
urlpatterns += [
    path("mes-positionnements/comparer/", views_history.compare, name="compare"),
]
