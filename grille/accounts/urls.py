from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.login_request, name="login"),
    path("connexion/lien/<str:token>/", views.login_confirm, name="login_confirm"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("compte/", views.account, name="account"),
    path("compte/bienvenue/", views.welcome, name="welcome"),
    path("compte/jetons-api/", views.api_tokens, name="api_tokens"),
    path("compte/jetons-api/<int:token_id>/revoquer/", views.api_token_revoke, name="api_token_revoke"),
]
