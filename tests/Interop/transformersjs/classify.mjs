// node classify.mjs <exported folder> <clip.wav>...: transformers.js's audio-classification pipeline on each clip, as a
// user runs it on our `export --format hf` folder; prints [{file, scores: {label: score}}] as JSON on stdout.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';

const [folder, ...clips] = process.argv.slice(2);
if (!folder || clips.length === 0) {
    console.error('usage: node classify.mjs <exported folder> <clip.wav>...');
    process.exit(2);
}
env.allowRemoteModels = false;
env.localModelPath = path.dirname(path.resolve(folder));

// transformers.js reads audio files only through a browser's AudioContext; in Node.js the samples are passed in.
// The clips are mono 16-bit PCM WAV at the feature extractor's rate.
function readWav(file) {
    const bytes = readFileSync(file);
    if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a WAV file`);
    let format = null;
    for (let at = 12; at + 8 <= bytes.length;) {
        const id = bytes.toString('ascii', at, at + 4), size = bytes.readUInt32LE(at + 4), body = at + 8;
        if (id === 'fmt ') format = { channels: bytes.readUInt16LE(body + 2), rate: bytes.readUInt32LE(body + 4), bits: bytes.readUInt16LE(body + 14) };
        if (id === 'data') {
            if (!format || format.channels !== 1 || format.bits !== 16) throw new Error(`${file}: not mono 16-bit PCM`);
            const samples = new Float32Array(size / 2);
            for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(body + 2 * i) / 32768;
            return { samples, rate: format.rate };
        }
        at = body + size + (size & 1);
    }
    throw new Error(`${file}: no data chunk`);
}

const classifier = await pipeline('audio-classification', path.basename(path.resolve(folder)));
const rate = classifier.processor.feature_extractor.config.sampling_rate;
const labels = Object.keys(classifier.model.config.id2label).length;
const results = [];
for (const file of clips) {
    const { samples, rate: clipRate } = readWav(file);
    if (clipRate !== rate) throw new Error(`${file}: ${clipRate} Hz, the feature extractor expects ${rate} Hz`);
    const top = await classifier(samples, { top_k: labels });
    results.push({ file, scores: Object.fromEntries(top.map(t => [t.label, t.score])) });
}
console.log(JSON.stringify(results));
