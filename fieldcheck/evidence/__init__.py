"""Evidence: photos (content-addressed, streamed to storage), waivers, integrity flags."""
