# The firmware's version, what INFO frames and the app store's info report. Its own module so
# that asking for it does not import the whole firmware.
VERSION = "microapp-firmware 0.1"
