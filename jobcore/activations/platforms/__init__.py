"""Clients of the ad platforms (LiveRamp, The Trade Desk) behind one small interface."""
