# simple_ocr webserver. Build from apps/simple_ocr:
#   docker build -f docker/webserver.Dockerfile -t decenter-fog/simple-ocr-webserver:0.1.0 .
FROM python:3.11.13-slim-bookworm
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -c /app/requirements.txt redis
COPY simple_ocr /app/simple_ocr
# Non-root: a system user without a login shell.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ocr
USER 10001
WORKDIR /app
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1 WEB_HOST=0.0.0.0
EXPOSE 8080
CMD ["python", "-m", "simple_ocr.webserver"]
