"""The door: checkin.py, the one place admission rules live (a scan, part of a family, re-entry,
stations of a tour); desk.py, the rest of the door desk (walk-ins, tallies, live figures, search,
undo); ticket_list.py, the ticket list a device keeps to scan offline."""
