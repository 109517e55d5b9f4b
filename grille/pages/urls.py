from django.urls import path

from . import views

app_name = "pages"
urlpatterns = [
    path("", views.home, name="home"),
    path("grille/", views.framework_page, name="framework"),
    path("protection-des-donnees/", views.protection, name="protection"),
]
