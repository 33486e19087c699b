// One QR detector for the camera and the photo input: the browser's own BarcodeDetector where
// it reads QR codes (Chrome on Android, Safari on macOS), otherwise the barcode-detector
// ponyfill (zxing-cpp compiled to WebAssembly), loaded from our own static/vendor/ only when
// needed. The wasm comes from our server too: prepareZXingModule's locateFile points there.

let pending = null;

async function nativeDetector() {
  const Native = window.BarcodeDetector;
  if (typeof Native !== "function" || typeof Native.getSupportedFormats !== "function") {
    return null;
  }
  try {
    const formats = await Native.getSupportedFormats();
    return formats.includes("qr_code") ? new Native({ formats: ["qr_code"] }) : null;
  } catch {
    return null;
  }
}

async function vendoredDetector(vendorUrl) {
  const module = await import(new URL("barcode-detector/ponyfill.js", vendorUrl).href);
  const wasmBase = new URL("zxing-wasm/", vendorUrl).href;
  // Compile the wasm now, while the camera starts, so the first frame is not the slow one.
  await module.prepareZXingModule({
    overrides: {
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? wasmBase + path : prefix + path),
    },
    fireImmediately: true,
  });
  return new module.BarcodeDetector({ formats: ["qr_code"] });
}

/** The page's detector, made once: {detector, kind: "native" | "zxing"}. Rejects when neither
 * can be had (the vendored files are missing, or the browser has no WebAssembly). */
export function getDetector(vendorUrl) {
  if (!pending) {
    pending = (async () => {
      const native = await nativeDetector();
      if (native) return { detector: native, kind: "native" };
      return { detector: await vendoredDetector(vendorUrl), kind: "zxing" };
    })();
    pending.catch(() => {
      pending = null; // let a later attempt try again
    });
  }
  return pending;
}

/** The text of the first QR code in `source` (a video, canvas or image bitmap), or null. */
export async function readQr(detector, source) {
  const found = await detector.detect(source);
  for (const code of found) {
    if (typeof code.rawValue === "string" && code.rawValue) return code.rawValue;
  }
  return null;
}

/** Decode a photo (WeChat's in-app browser, or any browser without a camera stream). Big
 * photos are tried scaled down first, which is faster and often reads better. */
export async function readPhoto(detector, file) {
  const image = await loadImage(file);
  try {
    for (const limit of [1280, 2400]) {
      const canvas = scaled(image, limit);
      const text = await readQr(detector, canvas);
      if (text) return text;
      if (canvas.width === (image.width || image.naturalWidth)) break;
    }
    return null;
  } finally {
    if (typeof image.close === "function") image.close();
  }
}

async function loadImage(file) {
  if (typeof createImageBitmap === "function") {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch {
      // Older Safari: fall through to an <img>.
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.decoding = "async";
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function scaled(image, limit) {
  const width = image.width || image.naturalWidth;
  const height = image.height || image.naturalHeight;
  const ratio = Math.min(1, limit / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * ratio));
  canvas.height = Math.max(1, Math.round(height * ratio));
  canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas;
}
