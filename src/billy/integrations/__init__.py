"""Adapters to the systems around billy. Each: port.py (Protocol + dataclasses), client.py (the real
protocol over the network) and emulator.py (a small server speaking the same protocol). Integrations
import no domain app; domain code sees only the port and its errors."""
