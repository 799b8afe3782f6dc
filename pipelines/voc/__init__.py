"""VOC Loop."""
