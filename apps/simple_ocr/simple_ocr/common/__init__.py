"""Small pieces every simple_ocr service shares: env config, logs, lifecycle, HTTP."""
