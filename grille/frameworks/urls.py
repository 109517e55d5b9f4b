from django.urls import path

from . import views

app_name = "frameworks"
urlpatterns = [
    path("grille/correspondances/<int:pk>/", views.crosswalk_detail, name="crosswalk"),
]
