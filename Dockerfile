# The Evently image: web nodes, websocket nodes, workers and the migrate job all run it
# (docker-compose.yml). Static files are collected at build time and served by each node (whitenoise).
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STATIC_ROOT=/app/staticfiles \
    EVENTLY_VAR_DIR=/var/lib/evently
WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && EVENTLY_LOCAL=1 python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 10001 --home-dir /app evently \
    && mkdir -p /var/lib/evently && chown evently /var/lib/evently
USER evently
EXPOSE 8000
# One node: HTTP and websockets on one port; the balancer in front terminates TLS.
CMD ["sh", "-c", "exec uvicorn evently.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_WORKERS:-2} --no-access-log --lifespan off --timeout-graceful-shutdown 10"]
