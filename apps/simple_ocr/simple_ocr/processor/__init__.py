"""The OCR Processor: reads a camera's MJPEG stream, reads text, stores it in the Repository."""
