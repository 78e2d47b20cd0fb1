"""Putting the firmware and microapps on a MicroPython board over its raw REPL (tools/flash.py).

board.py: the connection (mpremote's SerialTransport) and the firmware's boot answer;
firmware_install.py: the firmware's files, hash-checked both ways; app_image.py: an app as
the board stores it (header, CRC16-CCITT); apps.py: the app slots' control commands and the
upload sequence; progress.py: the progress bar; hex_flash.py: a MicroPython image by pyocd or
nrfutil; cli.py: the command line.
"""


class FlashError(Exception):
    """Something a user can act on, said in one line (tools/flash.py exits with code 2)."""
