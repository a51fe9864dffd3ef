from django.http import JsonResponse


def api_not_found(request):
    """Unknown API paths answer in the API's error shape, not with an HTML page."""
    return JsonResponse({"error": "not_found", "message": "No such API endpoint."}, status=404)
