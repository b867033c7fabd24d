"""The diffusers engine: any diffusers text-to-video pipeline, loaded once per worker."""
