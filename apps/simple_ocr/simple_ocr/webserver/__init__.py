"""The Webserver: latest text per camera with live updates, search, JSON API."""
