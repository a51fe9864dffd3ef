from django.urls import path

from checkin import views

urlpatterns = [
    path("", views.checkin_page, name="checkin"),
    path("sw.js", views.service_worker, name="checkin_sw"),
    path("manifest.webmanifest", views.web_manifest, name="checkin_manifest"),
]
