"""A DNS server on 127.0.0.1 for tests that run the real app: answers TXT questions from `txt` (name →
strings) and NXDOMAIN for everything else, over UDP. Point the app at it with HUMANIC_DNS_NAMESERVERS."""

from __future__ import annotations

import socket
import threading

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class FakeDns:
    def __init__(self, txt: dict[str, list[str]] | None = None):
        self.txt = dict(txt or {})
        self.asked: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-dns", daemon=True)

    @property
    def nameserver(self) -> str:
        host, port = self._socket.getsockname()
        return f"{host}:{port}"

    def __enter__(self) -> FakeDns:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                wire, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            self._socket.sendto(self._answer(query).to_wire(), client)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        self.asked.append(name)
        strings = self.txt.get(name)
        if strings is None or question.rdtype != dns.rdatatype.TXT:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        quoted = [f'"{s}"' for s in strings]
        response.answer.append(dns.rrset.from_text(question.name, 300, dns.rdataclass.IN, dns.rdatatype.TXT, *quoted))
        return response
