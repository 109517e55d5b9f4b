from django.urls import path

from . import views

app_name = "files"

urlpatterns = [
    path("fichiers/<uuid:uuid>/", views.detail, name="detail"),
    path("fichiers/<uuid:uuid>/telecharger", views.download, name="download"),
    path("fichiers/<uuid:uuid>/relancer", views.retry, name="retry"),
]
