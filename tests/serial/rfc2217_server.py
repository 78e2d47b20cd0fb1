"""A board in another room: pyserial's RFC 2217 server (serial.rfc2217.PortManager, as in
pyserial's examples/rfc2217_server.py) in front of a local serial port, on localhost. One client
at a time, one after another (mpremote, then the serial link, then mpremote again), while the
port itself stays open, as ser2net keeps it."""
from __future__ import annotations

import socket
import threading

import serial
import serial.rfc2217


class _PtyPort(serial.Serial):
    """A pty has no modem lines: the ones a client asks about read as idle, set ones are kept."""

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

    def _update_dtr_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass


class Rfc2217Server:
    def __init__(self, port: str) -> None:
        self.serial = _PtyPort(port, timeout=0.05)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.tcp_port = self.listener.getsockname()[1]
        self.url = f"rfc2217://localhost:{self.tcp_port}"
        self._alive = True
        self._client: socket.socket | None = None
        self._manager: serial.rfc2217.PortManager | None = None
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True),
                         threading.Thread(target=self._serial_to_client, daemon=True)]
        for t in self._threads:
            t.start()

    # PortManager sends its telnet answers through write()
    def write(self, data: bytes) -> None:
        client = self._client
        if client is not None:
            try:
                client.sendall(data)
            except OSError:
                pass

    def _accept(self) -> None:
        while self._alive:
            try:
                client, _ = self.listener.accept()
            except OSError:  # timeout: look at _alive again
                continue
            client.settimeout(0.2)
            with self._lock:
                self._client = client
                self._manager = serial.rfc2217.PortManager(self.serial, self)
            self._client_to_serial(client)
            with self._lock:
                self._client = None
                self._manager = None
            client.close()

    def _client_to_serial(self, client: socket.socket) -> None:
        while self._alive:
            try:
                data = client.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if not data:
                return
            manager = self._manager
            if manager is not None:
                self.serial.write(b"".join(manager.filter(data)))

    def _serial_to_client(self) -> None:
        while self._alive:
            try:
                data = self.serial.read(self.serial.in_waiting or 1)
            except (serial.SerialException, OSError):
                return
            manager = self._manager
            if data and manager is not None:
                self.write(b"".join(manager.escape(data)))

    def close(self) -> None:
        self._alive = False
        for t in self._threads:
            t.join(timeout=2)
        self.listener.close()
        self.serial.close()
