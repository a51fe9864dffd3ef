"""Pages go out gzipped: the seat map makes an event page hundreds of kilobytes of HTML (the theater's
319 KB is 20 KB compressed, 3.9 ms of CPU against a 68 ms render).

HTML only. Against BREACH, Django masks the CSRF token anew in every response and its gzip pads each
stream to a random length; JSON answers are left alone because some carry secrets beside text a
client chose (door searches, tickets), the hot path's answers are small anyway, and the seat map's
JSON has its own precomputed gzip (ticketing.layout_responses).
"""

from django.middleware.gzip import GZipMiddleware


class PageGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith("text/html"):
            return response
        return super().process_response(request, response)
