from django.urls import path

from events import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("city/", views.city_choose, name="city_choose"),
]
