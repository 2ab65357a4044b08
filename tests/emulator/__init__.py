"""End-to-end tests of voice_async.testing (the emulator) over real loopback sockets."""
