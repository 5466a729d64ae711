"""AidOffice: the offline Arabic registry of associations, beneficiaries and aid for a governorate office."""

__version__ = "0.1.0"
APP_NAME = "AidOffice"
