"""Predicting the next video frame: the synthetic game and the video reader, the ViT, its training and evaluation."""
