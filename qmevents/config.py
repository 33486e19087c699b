"""Package defaults. `instance/config.py`, then the environment (`DATABASE_URL`, `FLASK_<NAME>`),
then the `config` passed to `create_app` override them, in that order."""


class Config:
    # Filled from instance/secret_key on first start when nothing else sets it (see create_app).
    SECRET_KEY: str | None = None

    # None means: the SQLite file instance/qmevents.sqlite3.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    # Shown times; everything is stored in UTC.
    TIMEZONE = "Asia/Shanghai"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}

    # Flask-Limiter: in-memory by default; a Redis URI when several servers share the load
    # (`REDIS_URL` or `FLASK_RATELIMIT_STORAGE_URI` in the environment, e.g. redis://host:6379/0).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down: each worker counts in its own memory until Redis answers again (checked with a
    # growing pause), so limits still hold per worker and nobody gets an error page; any other
    # storage error is logged and the request goes through. Short timeouts: a Redis that hangs
    # must not hang registration.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    RATELIMIT_KEY_PREFIX = "qmevents"
    LOGIN_RATE_LIMIT = "10 per minute;50 per hour"

    # argon2id cost; tests lower it, production keeps the library's defaults.
    PASSWORD_TIME_COST = 3
    PASSWORD_MEMORY_COST = 65536  # KiB

    # Number of reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
    PROXY_COUNT = 0

    # --- Production and HTTPS (qmevents/security.py, docs/DEPLOYMENT.md) -----------------------
    # QMEVENTS_ENV=production in the environment: DEBUG or TESTING refuse to start, and the site
    # is taken to be served over HTTPS (PREFERRED_URL_SCHEME = "https"). Any other value, or
    # none, is development (`make run` on plain http://127.0.0.1:5000).
    ENVIRONMENT = "development"
    # "https": the session, remember-me and language cookies get `Secure`. "http" (the default
    # outside production, `make run`): they cannot, or the browser would drop them.
    PREFERRED_URL_SCHEME = "http"
    # Strict-Transport-Security max-age in seconds (one year), sent only on requests that came
    # over HTTPS (behind nginx: X-Forwarded-Proto, trusted with PROXY_COUNT); 0 sends none.
    HSTS_MAX_AGE = 31536000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Flask-Login's "basic": a session seen from another address or browser is no longer "fresh"
    # but stays signed in. "strong" would sign door staff out each time their phone hops from
    # the venue's Wi-Fi to 4G. Fixation is handled by sign-in itself, which clears the session.
    SESSION_PROTECTION = "basic"
    WTF_CSRF_TIME_LIMIT = None  # a form left open on a phone at the venue stays valid

    # The thank-you with the satisfaction survey (services/messaging/thanks.py) is texted only
    # from the first hour until the second, Shanghai time: nobody's phone rings at night.
    THANKS_HOURS = (9, 21)

    # Personal data is removed or anonymised this many days after an event (PIPL: minimal keeping).
    PERSONAL_DATA_DAYS = 30
    # Shown on the privacy page: who to ask about one's data, e.g. the campaign office's e-mail.
    PRIVACY_CONTACT: str | None = None

    # --- Sign-ins and passwords (services/signins.py, services/accounts.py, auth/) --------------
    # A back-office sign-in lasts this long: a long day at the door, from setting up to clearing
    # away, but not into the next morning. Signing out, a new password or a switched-off account
    # end it sooner, on every device it was copied to. LOGIN_RATE_LIMIT (above) is one budget of
    # failed attempts per account and one per address, shared by /login and POST /api/v1/token.
    SIGN_IN_HOURS = 16
    SIGN_IN_LINK_HOURS = 72  # a one-time sign-in link (an invitation) works once, this long
    INVITATIONS_PER_DAY = 50  # one-time sign-in links an organisation may send in 24 hours
    INVITATION_TEXTS_PER_PHONE = 3  # invitation texts to one mobile number in 24 hours
    BROADCASTS_PER_DAY = 3  # an organiser's messages to an event's registrants, per 24 hours
    DEVICE_PAIRING_MINUTES = 15  # a door device's pairing QR works once, this long

    API_TOKEN_DAYS = 90
    EVENTS_PER_PAGE = 20

    # The render cache of the public event list and event pages (public/pagecache.py): places
    # left, "full", windows and cancellations show within this many seconds. 0: off.
    # In each worker's memory; a Redis shared by every worker and server when REDIS_URL is set.
    PAGE_CACHE_SECONDS = 1.0
    # A page whose events did not change is kept this long at most (what no fingerprint covers,
    # e.g. a lottery's published draw, shows within it).
    PAGE_CACHE_MAX_SECONDS = 60
    CACHE_TYPE = "SimpleCache"
    CACHE_THRESHOLD = 2000  # pages kept per worker (the oldest go first)
    CACHE_KEY_PREFIX = "qmevents-page:"
    REGISTRANTS_PER_PAGE = 50

    # --- Notifications and one-time codes (services/messaging/outbox.py, services/otp.py) ---------
    # "outbox" stores messages for admins to read and sends nothing, so the demo needs no provider;
    # "smtp" sends e-mail; "sms" posts to an SMS provider's HTTP API; "aliyun" and "tencent"
    # send registered templates through Alibaba Cloud SMS or Tencent Cloud SMS
    # (services/messaging/providers.py, the SMS_… settings below).
    NOTIFY_BACKEND = "outbox"
    NOTIFY_MAX_ATTEMPTS = 5  # then a message is "failed", visible to admins
    # Send in a background thread after the commit, so a slow provider never delays an answer
    # (a message not sent before a restart is pending, and `flask notify retry` sends it).
    NOTIFY_IN_BACKGROUND = True
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_FROM: str | None = None
    SMTP_USE_TLS = True  # STARTTLS
    SMS_API_URL: str | None = None
    SMS_API_KEY: str | None = None
    SMS_SENDER = "质量月"
    # --- Template providers: Alibaba Cloud SMS (NOTIFY_BACKEND="aliyun") and Tencent Cloud SMS
    # ("tencent"). Both send only templates registered with them (`flask notify templates` lists
    # ours, README: "Text message templates to register with the provider"); SMS_TEMPLATE_CODES
    # maps each of our keys to the code the provider gave it, e.g. FLASK_SMS_TEMPLATE_CODES=
    # '{"registration_confirmed": "SMS_4626…"}' (a JSON object). A message whose template has no
    # code fails and stays in the outbox with the reason. The sign name (签名) is registered with
    # the provider too; None: SMS_SENDER.
    SMS_TEMPLATE_CODES: dict | None = None
    SMS_SIGN_NAME: str | None = None
    SMS_ALIYUN_ACCESS_KEY_ID: str | None = None
    SMS_ALIYUN_ACCESS_KEY_SECRET: str | None = None
    SMS_ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"  # tests point it at a local fake
    SMS_ALIYUN_REGION = "cn-hangzhou"
    SMS_TENCENT_SECRET_ID: str | None = None
    SMS_TENCENT_SECRET_KEY: str | None = None
    SMS_TENCENT_SDK_APP_ID: str | None = None  # the SMS application's SdkAppId, 1400…
    SMS_TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
    SMS_TENCENT_REGION = "ap-guangzhou"
    # The site's address as citizens reach it, e.g. "https://zlj.example.gov.cn": the base of
    # every link in a message, a QR code or an API answer. Required in production. None
    # (development): the request's own address, only when its host is one of LINK_HOSTS; a
    # request to any other Host is refused (qmevents/links.py), so a forged Host header can never
    # put another site's address in a text message from the official sender.
    PUBLIC_URL: str | None = None
    LINK_HOSTS = ["localhost", "127.0.0.1", "::1"]
    OTP_TTL_SECONDS = 600
    OTP_MAX_ATTEMPTS = 5  # wrong codes before a code is dead

    # --- Rate limits (qmevents/ratelimits.py) and finding one's tickets (public/find.py) -------
    # Flask-Limiter strings, ";" between several. Per phone: the normalised number. Per address:
    # generous, since many citizens share one carrier address. FLASK_RATELIMIT_ENABLED=false in
    # the environment lifts them all (load tests).
    REGISTRATION_RATE_LIMIT_PER_PHONE = "5 per hour"
    REGISTRATION_RATE_LIMIT_PER_ADDRESS = "300 per minute"
    OTP_RATE_LIMIT_PER_PHONE = "3 per 10 minutes;10 per day"
    OTP_RATE_LIMIT_PER_ADDRESS = "60 per minute"
    TICKET_RATE_LIMIT_PER_ADDRESS = "600 per minute"
    # Survey answers (one per ticket anyway); a venue's families may share one carrier address.
    SURVEY_RATE_LIMIT_PER_ADDRESS = "120 per minute"
    # Searches by a whole mobile number, per user (ratelimits.limit_number_search): 10,000 tries
    # would unmask 138****5678; at this pace they take longer than personal data is kept.
    NUMBER_SEARCH_RATE_LIMIT = "20 per hour;60 per day"
    # How long a phone proven with a one-time code may see its tickets in this browser.
    FIND_SESSION_MINUTES = 30

    # --- At the door (services/door/checkin.py, services/door/desk.py) ----------------------------
    # How long staff may take back an admission made by mistake (the ticket's last one only).
    DOOR_UNDO_MINUTES = 5
    # How long a worker remembers whom a scanning device's bearer token belongs to (a revoked
    # token still scans for at most this long); 0 checks the database on every scan.
    DOOR_TOKEN_CACHE_SECONDS = 10

    # --- The waiting list (services/registrations/waitlist.py) ------------------------------------
    # None: a party promoted from the waiting list is confirmed at once. A number of hours: the
    # place is offered and held that long (at most until the session starts) for the party to
    # confirm on its ticket page; then `flask --app wsgi waitlist expire` (cron, every few
    # minutes) passes it on to the next in line.
    WAITLIST_OFFER_HOURS: float | None = None

    # --- Compressed answers (Flask-Compress, bound in create_app) ---------------------------------
    # Text only: pages, styles, scripts, JSON, SVG. PNG, PDF, XLSX and the decoder's wasm are not
    # compressed here. Brotli where the browser takes it, else gzip; the library's cheap levels.
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "application/manifest+json", "image/svg+xml"]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_LEVEL = 6  # gzip
    COMPRESS_BR_LEVEL = 4
    # Streamed answers (the CSV, XLSX and PDF exports) go out as they are written, uncompressed;
    # static text files are handed over whole (qmevents/staticfiles.py) and compressed.
    COMPRESS_STREAMS = False
