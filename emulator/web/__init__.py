"""HTTP pieces the emulated cloud and the container share: Azure's error body, bounded JSON bodies, waitress."""
