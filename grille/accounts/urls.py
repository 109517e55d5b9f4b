from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.login_request, name="login"),
    path("connexion/lien/<str:token>/", views.login_confirm, name="login_confirm"),
    path("deconnexion/", views.logout_view, name="logout"),
]
