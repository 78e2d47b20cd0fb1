"""Links hand control from the host to the microapp and back: greenlet (simulator) or serial (board)."""
