"""Looking inside image models: feature visualization by gradient ascent and saliency maps."""
