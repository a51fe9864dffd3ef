from django.urls import path

from events import views, views_discovery

urlpatterns = [
    path("", views_discovery.home, name="home"),
    path("search/", views_discovery.search, name="search"),
    path("city/", views_discovery.city_choose, name="city_choose"),
    path("events/<int:event_id>/", views.event_detail, name="event_detail"),
]
