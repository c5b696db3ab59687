"""Launching the container in Docker: our image (built air-gapped by ``image``) or Microsoft's."""
