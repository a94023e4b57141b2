"""QRStudio Box: QR codes, dynamic redirects, scan analytics and signed webhooks."""

__version__ = "0.3.0"
