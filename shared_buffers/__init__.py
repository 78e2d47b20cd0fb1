# The contract both sides import: buffer layout, message types, acks, the serial frame codec.
