// Continuous scanning: the back camera into a <video>, ~9 frames a second through the detector
// while no answer is on screen. Any failure (no HTTPS on iOS, permission refused, no camera, a
// decoder that cannot load) becomes a plain sentence; the typed, hand-scanner and photo paths
// keep working whatever happens here.

import { getDetector, readQr } from "./decoder.js";

const FRAME_MS = 110;

export class Camera {
  constructor(video, { vendorUrl, text, onCode, onState }) {
    this.video = video;
    this.vendorUrl = vendorUrl;
    this.text = text;
    this.onCode = onCode;
    this.onState = onState;
    this.stream = null;
    this.detector = null;
    this.paused = false;
    this.timer = 0;
    this.busy = false;
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.stop();
      else if (this.wanted) this.start();
    });
  }

  /** Ask for the camera and start reading frames. Resolves when running or refused. */
  async start() {
    this.wanted = true;
    if (this.stream) return;
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      this.onState("off", this.text.camera_insecure);
      return;
    }
    this.onState("starting", this.text.camera_starting);
    let detector;
    try {
      let kind;
      ({ detector, kind } = await getDetector(this.vendorUrl));
      this.video.dataset.decoder = kind; // "native" or "zxing": for a person debugging a phone
    } catch {
      this.onState("off", this.text.decoder_missing);
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 },
          height: { ideal: 720 } },
      });
    } catch (err) {
      this.onState("off", this.refusal(err));
      return;
    }
    if (!this.wanted || document.hidden) {
      this.release();
      return;
    }
    this.detector = detector;
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.setAttribute("playsinline", "");
    try {
      await this.video.play();
    } catch {
      // autoplay of a muted inline video is allowed; the frames still come when it is not
    }
    this.onState("on", this.text.camera_on);
    this.schedule();
  }

  refusal(err) {
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") return this.text.camera_denied;
    if (name === "NotFoundError" || name === "OverconstrainedError") return this.text.camera_none;
    if (name === "NotReadableError") return this.text.camera_busy;
    return this.text.camera_failed;
  }

  /** Switch the camera off (the button, or the page hidden): the light and battery go too. */
  stop(byUser = false) {
    if (byUser) this.wanted = false;
    this.release();
    this.onState("off", byUser ? this.text.camera_stopped : "");
  }

  release() {
    clearTimeout(this.timer);
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.video.srcObject = null;
  }

  get running() {
    return Boolean(this.stream);
  }

  pause() {
    this.paused = true;
  }

  resume() {
    this.paused = false;
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), FRAME_MS);
  }

  async tick() {
    if (!this.stream) return;
    const ready = this.video.readyState >= 2 && this.video.videoWidth > 0;
    if (!this.paused && !this.busy && ready) {
      this.busy = true;
      try {
        const text = await readQr(this.detector, this.video);
        if (text && !this.paused) this.onCode(text);
      } catch {
        // a frame the decoder cannot read is just a frame without a code
      } finally {
        this.busy = false;
      }
    }
    this.schedule();
  }
}
