"""The document pipeline: a contractor's file in, watermarked page images out."""
