"""What people look at: image files, mask overlays and boxes, matplotlib figures, per-epoch previews, the
embedding projector."""
