"""YOLO detection parts: anchor grid and decoding, k-means anchors, target assignment, NMS post-processing."""
