"""The decision API: may this person see this camera's footage of that moment, now?"""
