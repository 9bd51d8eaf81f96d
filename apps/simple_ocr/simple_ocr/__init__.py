"""simple_ocr: camera simulator -> OCR Processor -> Redis Repository -> Webserver."""
