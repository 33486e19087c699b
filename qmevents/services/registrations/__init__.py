"""A party's places, from registering to the door: places.py is the only code that moves a
session's places_taken; codes.py makes and reads ticket codes; register, waitlist, approval,
lottery and cancellation build on those two and never reach into each other for them."""
