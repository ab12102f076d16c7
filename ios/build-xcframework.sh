#!/usr/bin/env bash
# Builds ios/FieldConsultFFIC.xcframework: the static Rust library for iOS devices (arm64) and
# the simulator (arm64 + x86_64 in one lipo'd slice), with the C header and module map that
# `cargo xtask bindings` generated into Sources/FieldConsultFFIC/include.
# Needs macOS with Xcode. Run it through `cargo xtask ios`, which regenerates the bindings first.
set -euo pipefail

IOS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$IOS_DIR/.."

LIB=libfieldconsult_ffi.a
HEADERS="$IOS_DIR/Sources/FieldConsultFFIC/include"
OUTPUT="$IOS_DIR/FieldConsultFFIC.xcframework"
DEVICE=aarch64-apple-ios
SIMULATORS=(aarch64-apple-ios-sim x86_64-apple-ios)

for tool in xcodebuild lipo cargo rustup; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found (needs macOS with Xcode and rustup)" >&2; exit 1; }
done
if [[ ! -f "$HEADERS/module.modulemap" ]]; then
    echo "error: $HEADERS/module.modulemap is missing: run \`cargo xtask bindings\`" >&2
    exit 1
fi

# Cargo's target directory as Cargo reports it, unless the caller (xtask) says.
TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps \
    | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')}"

# The `mobile` profile (workspace Cargo.toml): LTO, size-optimised, stripped, still unwinding.
PROFILE=mobile
rustup target add "$DEVICE" "${SIMULATORS[@]}"
for target in "$DEVICE" "${SIMULATORS[@]}"; do
    cargo build --profile "$PROFILE" --package fieldconsult-ffi --target "$target"
done

SIM_DIR="$TARGET_DIR/ios-simulator-universal/$PROFILE"
mkdir -p "$SIM_DIR"
lipo -create \
    "$TARGET_DIR/${SIMULATORS[0]}/$PROFILE/$LIB" \
    "$TARGET_DIR/${SIMULATORS[1]}/$PROFILE/$LIB" \
    -output "$SIM_DIR/$LIB"

rm -rf "$OUTPUT"
xcodebuild -create-xcframework \
    -library "$TARGET_DIR/$DEVICE/$PROFILE/$LIB" -headers "$HEADERS" \
    -library "$SIM_DIR/$LIB" -headers "$HEADERS" \
    -output "$OUTPUT"
echo "built $OUTPUT"
