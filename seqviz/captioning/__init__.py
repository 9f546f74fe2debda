"""Video captioning: a captioned clip dataset of moving shapes (data.py)."""
