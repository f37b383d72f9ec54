"""The video pipeline: a lesson's uploaded video becomes adaptive HLS (FFmpeg), with its
duration and a thumbnail, and the instructor hears when it is ready or why it failed."""
