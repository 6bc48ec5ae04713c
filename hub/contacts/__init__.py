"""Contacts: who is on WhatsApp (number checks), contact profiles (cached look-ups), and the send API's
refusal of numbers a check found not on WhatsApp."""
