# simple_ocr processor. Build from apps/simple_ocr:
#   docker build -f docker/processor.Dockerfile -t decenter-fog/simple-ocr-processor:0.1.0 .
FROM python:3.11.13-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends tesseract-ocr-eng libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /app/requirements.txt
RUN pip install --no-cache-dir -c /app/requirements.txt opencv-python-headless numpy pillow redis tesserocr
COPY simple_ocr /app/simple_ocr
# Non-root: a system user without a login shell.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin ocr \
 && mkdir -p /var/lib/simple_ocr && chown ocr /var/lib/simple_ocr
USER 10001
WORKDIR /app
ENV PYTHONPATH=/app PYTHONUNBUFFERED=1 OCR_HEALTH_HOST=0.0.0.0
EXPOSE 8082
CMD ["python", "-m", "simple_ocr.processor"]
