// A deterministic corpus of department documents for the search checks
// (scripts/documents_check.py) and the ingest bench (scripts/documents-bench.sh):
// notices, orders, NOCs, committee minutes, surveys, inspection reports and photograph
// records about the bundled register's heritage buildings and water bodies, in English,
// in Bengali and a few in both, rendered by Chromium. Two thirds are text PDFs
// (page.pdf() of an HTML page); a third are scans: a screenshot at about 240 dpi, kept as
// PNG or JPEG, or wrapped into a PDF that holds only the image (no text layer), some
// turned slightly on a grey ground as a flatbed scan would be.
//
// Writes OUTDIR/files/…, OUTDIR/manifest.csv (for `heritage-atlas documents ingest`) and
// OUTDIR/truth.json: per file its exact text (what the page says, line by line), its
// language, type, whether it was scanned and how, its reference, date, assets and title.
// The same seed and size give the same documents, byte for byte in truth.json (PDF and
// image bytes may differ between Chromium versions).
//
// Usage: node doc-corpus.mjs OUTDIR [--n 60] [--seed 1] [--scans K] [--private 1]
//   --scans K   how many of the N are scans (default N/3)
//   --private P the last P documents are marked public=false
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');

function parseArgs(argv) {
  const opts = { n: 60, seed: 1, scans: null, private: 1, out: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      if (!(key in opts) || key === 'out') throw new Error(`unknown option ${a}`);
      opts[key] = Number(argv[++i]);
      if (!Number.isInteger(opts[key]) || opts[key] < 0) throw new Error(`${a} takes a whole number`);
    } else if (!opts.out) {
      opts.out = a;
    } else {
      throw new Error(`unexpected argument ${a}`);
    }
  }
  if (!opts.out) throw new Error('usage: node doc-corpus.mjs OUTDIR [--n 60] [--seed 1] [--scans K] [--private 1]');
  if (opts.scans === null) opts.scans = Math.round(opts.n / 3);
  if (opts.scans > opts.n || opts.private > opts.n) throw new Error('--scans and --private are at most --n');
  return opts;
}

/** mulberry32: small, seedable, the same sequence everywhere. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const shuffle = (xs) => {
    const ys = xs.slice();
    for (let i = ys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [ys[i], ys[j]] = [ys[j], ys[i]];
    }
    return ys;
  };
  return { next, int, pick, shuffle };
}

// --- The register: names of the assets the documents are about --------------------------

function register() {
  const read = (f) => JSON.parse(readFileSync(path.join(REPO, 'data', f), 'utf8')).features.map((x) => x.properties);
  const short = (s) => s.replace(/\s*\(.*\)\s*/g, ' ').trim();
  // The locality: the part of the address before ", Kolkata".
  const place = (address) => (address.split(',').slice(-2, -1)[0] || 'Kolkata').replace(/^\s*(off|near|beside)\s+/i, '').trim();
  const assets = [];
  for (const p of read('heritage.geojson')) {
    const n = Number(p.code.slice(4));
    if (n > 30) continue; // HER-0001…HER-0030: the codes every bundled register has
    assets.push({ code: p.code, water: false, en: short(p.name), bn: short(p.name_bn), kind: p.kind,
      place: place(p.address) });
  }
  for (const p of read('water_bodies.geojson')) {
    assets.push({ code: p.code, water: true, en: short(p.name), bn: short(p.name_bn), kind: p.kind,
      place: place(p.address) });
  }
  return assets;
}

// --- What the documents say --------------------------------------------------------------

const KINDS = ['notice', 'order', 'noc', 'minutes', 'survey', 'inspection_report', 'photograph', 'other'];

const ISSUERS = {
  en: [
    'Environment & Heritage Department, Kolkata Municipal Corporation',
    'Heritage Conservation Committee, Kolkata Municipal Corporation',
    'Office of the Executive Engineer (Heritage), Borough VI',
    'West Bengal Heritage Commission',
    'Building Department, Kolkata Municipal Corporation',
    'Water Bodies Cell, Department of Environment, Government of West Bengal',
  ],
  bn: [
    'পরিবেশ ও ঐতিহ্য বিভাগ, কলকাতা পৌরসংস্থা',
    'ঐতিহ্য সংরক্ষণ কমিটি, কলকাতা পৌরসংস্থা',
    'নির্বাহী বাস্তুকারের দপ্তর (ঐতিহ্য), বরো ছয়',
    'পশ্চিমবঙ্গ হেরিটেজ কমিশন',
    'জলাশয় শাখা, পরিবেশ দপ্তর, পশ্চিমবঙ্গ সরকার',
  ],
};
const REF_PREFIX = ['KMC/EH', 'KMC/HCC', 'WBHC/NOC', 'KMC/BLDG', 'DOE/WB'];
const OFFICERS = ['S. Banerjee', 'A. Chatterjee', 'R. Mukherjee', 'P. Ghosh', 'M. Sen', 'T. Dutta', 'K. Bose', 'N. Sarkar'];
const OFFICERS_BN = ['সুদীপ বন্দ্যোপাধ্যায়', 'অনন্যা চট্টোপাধ্যায়', 'রাজীব মুখোপাধ্যায়', 'প্রিয়াঙ্কা ঘোষ', 'মৌমিতা সেন', 'তপন দত্ত', 'কৌশিক বসু'];
const CONTRACTORS = ['Bengal Restoration Works', 'Hooghly Builders', 'Sen & Sons Conservation', 'Eastern Lime Mortar Co.', 'Ganga Civil Contractors'];
const CONTRACTORS_BN = ['বেঙ্গল রেস্টোরেশন ওয়ার্কস', 'হুগলি বিল্ডার্স', 'সেন অ্যান্ড সন্স', 'গঙ্গা সিভিল কন্ট্রাক্টরস'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const MONTHS_BN = ['জানুয়ারি', 'ফেব্রুয়ারি', 'মার্চ', 'এপ্রিল', 'মে', 'জুন', 'জুলাই', 'আগস্ট', 'সেপ্টেম্বর', 'অক্টোবর', 'নভেম্বর', 'ডিসেম্বর'];
const BN_DIGITS = '০১২৩৪৫৬৭৮৯';
const bnNum = (x) => String(x).replace(/[0-9]/g, (d) => BN_DIGITS[d]);

// Titles, openings and sentences per type. {A} the asset, {B} a second asset or the
// asset again, {P} its locality, {W} a ward, {C} a contractor, {O} an officer, {D} the
// date in words, {N} an amount, {K} a count, {R} the reference.
const EN = {
  title: {
    notice: ['Public notice on repairs to {A}', 'Notice of hearing on alterations to {A}', '{W}: notice regarding unauthorised filling of {A}', '{W}: notice of hearing on encroachment at {A}'],
    order: ['Order on conservation works at {A}', 'Order to stop construction near {A}', '{W}: order restoring {A} to its original extent', '{W}: order on desiltation of {A}'],
    noc: ['No objection certificate for repairs to {A}', 'NOC for facade restoration of {A}', '{W}: NOC for desiltation of {A}'],
    minutes: ['Minutes of the Heritage Conservation Committee meeting on {A}', '{W}: minutes of the meeting on water bodies of {P}'],
    survey: ['Condition survey of {A}', 'Measurement survey of {A}', '{W}: survey of ponds and tanks in Ward {W}'],
    inspection_report: ['Inspection report on {A}', 'Site inspection of {A} after the monsoon', 'Structural inspection report of {A}'],
    photograph: ['Photograph record of {A}', 'Photographs of works at {A}'],
    other: ['Letter to the owner of {A}', 'Estimate for maintenance of {A}'],
  },
  heritage: {
    notice: [
      'It has come to the notice of this department that unauthorised alterations are being made to {A} at {P}.',
      'The owners and occupiers of {A} are hereby informed that the building is listed as Grade I heritage.',
      'No repairs, additions or demolition shall be undertaken without prior permission of the Heritage Conservation Committee.',
      'Objections, if any, may be filed in writing within thirty days from the date of this notice.',
      'A hearing will be held in the office of the undersigned on {D} at eleven in the morning.',
      'Failure to comply will attract action under the Kolkata Municipal Corporation Act, 1980.',
    ],
    order: [
      'Having considered the report of the Executive Engineer, the committee orders that conservation works at {A} be taken up at once.',
      'The damaged cornice and parapet shall be repaired in lime mortar matching the original.',
      'Cement plaster applied to the facade shall be removed and replaced with lime plaster.',
      'The work shall be executed by {C} under the supervision of the heritage architect.',
      'The estimated cost of Rs. {N} lakh shall be borne by the owner of the premises.',
      'Construction of the new structure adjacent to {A} shall stop forthwith until further orders.',
    ],
    noc: [
      'This department has no objection to the proposed repairs to {A} at {P}, subject to the conditions below.',
      'The repairs shall be limited to the roof, the cornice and the damaged balustrade.',
      'Original teak louvres and cast iron railings shall be retained and restored, not replaced.',
      'The colour of the facade shall not be changed; samples shall be approved by the committee.',
      'Photographs of the building before and after the repairs shall be submitted to this office.',
      'This certificate is valid for one year from the date of issue and is not a building permit.',
    ],
    minutes: [
      'The meeting was chaired by {O}; members from the Building Department and the Heritage Commission were present.',
      'Item 1: the committee reviewed the condition of {A} and noted cracks in the verandah and the staircase.',
      'Item 2: the application for repairs to {B} was approved with conditions.',
      'Item 3: the committee asked the Executive Engineer to inspect the listed buildings of Ward {W} before the monsoon.',
      'The committee noted that peepal saplings growing on the parapet must be removed by hand.',
      'The meeting ended with a vote of thanks to the chair.',
    ],
    survey: [
      'A condition survey of {A} was carried out by the department on {D}.',
      'The survey recorded dampness in the ground floor walls and loss of plaster on the north facade.',
      'Of the {K} rooms surveyed, most show cracks in the ceiling and rotting of wooden beams.',
      'Measured drawings of the plan and elevations were prepared at a scale of one to fifty.',
      'The survey recommends chemical conservation of the stucco and repair of the drainage.',
    ],
    inspection_report: [
      'The undersigned inspected {A} at {P} on {D} in the presence of the caretaker.',
      'Cracks were observed in the parapet and the cornice on the west side of the building.',
      'Vegetation was found growing on the roof and in the rain water pipes.',
      'The structural stability of the verandah needs to be examined by a structural engineer.',
      'No unauthorised construction was observed during the inspection.',
      'It is recommended that urgent repairs be carried out before the monsoon.',
    ],
    photograph: [
      'Photographs of {A} taken on {D} during the inspection by {O}.',
      'Plate 1 shows the main facade from the street with scaffolding in place.',
      'Plate 2 shows the damaged cornice and the missing balustrade on the terrace.',
      'Plate 3 shows the restored teak louvres on the first floor verandah.',
      'The photographs are kept in the department archive for the heritage register.',
    ],
    other: [
      'The owner of {A} is requested to attend this office with the title documents of the premises.',
      'An estimate of Rs. {N} lakh has been prepared for the maintenance of the building.',
      'The estimate includes waterproofing of the roof and repair of the staircase.',
      'A copy of this letter is forwarded to the Borough Executive Engineer for information.',
    ],
  },
  water: {
    notice: [
      'It has come to the notice of this department that {A} at {P} is being filled with earth and construction debris.',
      'Filling of any pond, tank or water body is prohibited under the West Bengal Inland Fisheries Act, 1984.',
      'The persons responsible are directed to stop the filling at once and remove the debris within seven days.',
      'Any person having information about the filling of ponds in Ward {W} may inform this office.',
      'A hearing will be held in the office of the undersigned on {D} at eleven in the morning.',
    ],
    order: [
      'Having heard the parties, it is ordered that {A} be restored to its original extent as shown in the survey map.',
      'The illegal embankment on the eastern side of the pond shall be removed.',
      'Desiltation and removal of water hyacinth shall be carried out by {C} before the monsoon.',
      'Discharge of sewage and effluent into the water body shall stop forthwith.',
      'The Borough Executive Engineer shall report compliance within thirty days.',
    ],
    noc: [
      'This department has no objection to the desiltation of {A} at {P}, subject to the conditions below.',
      'The area and depth of the water body shall not be reduced in any manner.',
      'Silt removed from the tank shall not be dumped on the banks.',
      'Fish culture may continue during the works with the consent of the fisheries cooperative.',
      'This certificate is valid for six months from the date of issue.',
    ],
    minutes: [
      'The meeting on the water bodies of {P} was chaired by {O}.',
      'Item 1: the committee reviewed complaints about the filling of {A} and a pond in Ward {W}.',
      'Item 2: the proposal to beautify {B} with a walkway was discussed; the walkway shall not encroach on the water.',
      'Item 3: the committee asked for a survey of all ponds and tanks of more than five cottahs in the borough.',
      'The meeting noted that siltation and water hyacinth have reduced the depth of several tanks.',
    ],
    survey: [
      'A survey of ponds, tanks and other water bodies in Ward {W} was carried out on {D}.',
      'Of the {K} water bodies surveyed, several were found partly filled or encroached upon.',
      '{A} was found covered with water hyacinth, with garbage dumped on the southern bank.',
      'The depth of water was measured at ten points; the average depth was less than one metre.',
      'The survey recommends desiltation, fencing of the banks and a ban on dumping of garbage.',
    ],
    inspection_report: [
      'The undersigned inspected {A} at {P} on {D} following a complaint from local residents.',
      'Fresh filling with earth and debris was observed on the northern side of the water body.',
      'The banks are encroached upon by temporary sheds and a garage.',
      'Sewage from nearby drains flows into the tank and the water is polluted.',
      'It is recommended that the filling be stopped and the encroachments removed.',
    ],
    photograph: [
      'Photographs of {A} taken on {D} during the inspection by {O}.',
      'Plate 1 shows the filled portion of the pond with construction debris.',
      'Plate 2 shows water hyacinth covering the surface of the tank.',
      'Plate 3 shows the restored ghat steps after desiltation.',
    ],
    other: [
      'The fisheries cooperative of {A} is requested to submit the lease documents to this office.',
      'An estimate of Rs. {N} lakh has been prepared for desiltation and fencing of the banks.',
      'A copy of this letter is forwarded to the Borough Executive Engineer for information.',
    ],
  },
  close: ['By order,', 'Sd/-', 'Issued under the authority of the Municipal Commissioner.'],
};

const BN = {
  title: {
    notice: ['{A} মেরামত সংক্রান্ত জনবিজ্ঞপ্তি', '{W}: {A} অবৈধভাবে ভরাট সংক্রান্ত বিজ্ঞপ্তি', '{W}: {A} দখল বিষয়ে শুনানির বিজ্ঞপ্তি'],
    order: ['{A} সংরক্ষণের কাজ বিষয়ে আদেশ', '{A} সংলগ্ন নির্মাণ বন্ধের আদেশ', '{W}: {A} পূর্বের আয়তনে ফেরানোর আদেশ'],
    noc: ['{A} মেরামতের জন্য অনাপত্তি পত্র', '{W}: {A} পলি তোলার জন্য অনাপত্তি পত্র'],
    minutes: ['ঐতিহ্য সংরক্ষণ কমিটির সভার কার্যবিবরণী: {A}', '{W}: {P} এলাকার জলাশয় বিষয়ক সভার কার্যবিবরণী'],
    survey: ['{A} অবস্থা সমীক্ষা', '{W}: {W} নম্বর ওয়ার্ডের পুকুর ও জলাশয় সমীক্ষা'],
    inspection_report: ['{A} পরিদর্শন প্রতিবেদন', 'বর্ষার পরে {A} পরিদর্শন'],
    photograph: ['{A} আলোকচিত্র নথি'],
    other: ['{A} মালিককে চিঠি', '{A} রক্ষণাবেক্ষণের খরচের হিসাব'],
  },
  heritage: {
    notice: [
      'এই বিভাগের নজরে এসেছে যে {P} এলাকায় অবস্থিত {A} ভবনের অননুমোদিত পরিবর্তন করা হচ্ছে।',
      'ভবনটি কলকাতা পৌরসংস্থার ঐতিহ্য তালিকায় প্রথম শ্রেণির ঐতিহ্যবাহী ভবন হিসাবে নথিভুক্ত।',
      'ঐতিহ্য সংরক্ষণ কমিটির পূর্বানুমতি ছাড়া কোনো মেরামত, সংযোজন বা ভাঙার কাজ করা যাবে না।',
      'আপত্তি থাকলে এই বিজ্ঞপ্তির তারিখ থেকে ত্রিশ দিনের মধ্যে লিখিতভাবে জানাতে হবে।',
      'নিয়ম না মানলে কলকাতা পৌরসংস্থা আইন অনুযায়ী ব্যবস্থা নেওয়া হবে।',
    ],
    order: [
      'নির্বাহী বাস্তুকারের প্রতিবেদন বিবেচনা করে কমিটি আদেশ দিচ্ছে যে {A} ভবনের সংরক্ষণের কাজ অবিলম্বে শুরু করতে হবে।',
      'ক্ষতিগ্রস্ত কার্নিশ ও প্যারাপেট চুন-সুরকির মশলায় মূল নকশা অনুযায়ী মেরামত করতে হবে।',
      'সামনের দেওয়ালে লাগানো সিমেন্টের প্লাস্টার তুলে চুনের প্লাস্টার দিতে হবে।',
      'কাজটি ঐতিহ্য স্থপতির তত্ত্বাবধানে {C} সম্পন্ন করবে।',
      'আনুমানিক {N} লক্ষ টাকার খরচ ভবনের মালিক বহন করবেন।',
    ],
    noc: [
      '{P} এলাকায় অবস্থিত {A} ভবনের প্রস্তাবিত মেরামতে এই বিভাগের কোনো আপত্তি নেই, নিচের শর্তসাপেক্ষে।',
      'মেরামত কেবল ছাদ, কার্নিশ ও ভাঙা রেলিংয়ের মধ্যে সীমাবদ্ধ থাকবে।',
      'মূল সেগুন কাঠের খড়খড়ি ও ঢালাই লোহার রেলিং বদলানো যাবে না, সংস্কার করতে হবে।',
      'মেরামতের আগে ও পরে ভবনের আলোকচিত্র এই দপ্তরে জমা দিতে হবে।',
      'এই অনাপত্তি পত্র প্রদানের তারিখ থেকে এক বছর বৈধ থাকবে।',
    ],
    minutes: [
      'সভায় সভাপতিত্ব করেন {O}; গৃহ বিভাগ ও হেরিটেজ কমিশনের সদস্যরা উপস্থিত ছিলেন।',
      'বিষয় ১: কমিটি {A} ভবনের অবস্থা পর্যালোচনা করে বারান্দা ও সিঁড়িতে ফাটল লক্ষ করে।',
      'বিষয় ২: {B} মেরামতের আবেদন শর্তসাপেক্ষে অনুমোদিত হয়।',
      'বিষয় ৩: বর্ষার আগে {W} নম্বর ওয়ার্ডের তালিকাভুক্ত ভবনগুলি পরিদর্শনের নির্দেশ দেওয়া হয়।',
      'কমিটি লক্ষ করে যে প্যারাপেটে গজানো অশ্বত্থ গাছের চারা হাতে তুলে ফেলতে হবে।',
    ],
    survey: [
      '{D} তারিখে বিভাগের পক্ষ থেকে {A} ভবনের অবস্থা সমীক্ষা করা হয়।',
      'সমীক্ষায় একতলার দেওয়ালে স্যাঁতসেঁতে ভাব এবং উত্তর দিকের দেওয়ালে প্লাস্টার খসে পড়া দেখা গেছে।',
      'সমীক্ষা করা {K}টি ঘরের অধিকাংশের ছাদে ফাটল এবং কাঠের কড়িবরগায় পচন ধরেছে।',
      'সমীক্ষায় নিকাশি ব্যবস্থার মেরামত ও পলেস্তারার রাসায়নিক সংরক্ষণের সুপারিশ করা হয়েছে।',
    ],
    inspection_report: [
      'নিম্নস্বাক্ষরকারী {D} তারিখে তত্ত্বাবধায়কের উপস্থিতিতে {P} এলাকার {A} পরিদর্শন করেন।',
      'ভবনের পশ্চিম দিকের প্যারাপেট ও কার্নিশে ফাটল দেখা গেছে।',
      'ছাদে ও বৃষ্টির জলের পাইপে গাছপালা গজিয়েছে।',
      'বারান্দার কাঠামোগত স্থিতিশীলতা একজন বাস্তুকারকে দিয়ে পরীক্ষা করানো প্রয়োজন।',
      'বর্ষার আগে জরুরি মেরামতের সুপারিশ করা হচ্ছে।',
    ],
    photograph: [
      '{D} তারিখে পরিদর্শনের সময় {O} কর্তৃক তোলা {A} ভবনের আলোকচিত্র।',
      'ছবি ১: রাস্তা থেকে ভবনের সামনের দিক, ভারা বাঁধা অবস্থায়।',
      'ছবি ২: ছাদের ক্ষতিগ্রস্ত কার্নিশ ও ভাঙা রেলিং।',
      'আলোকচিত্রগুলি ঐতিহ্য তালিকার জন্য বিভাগের মহাফেজখানায় রাখা আছে।',
    ],
    other: [
      '{A} ভবনের মালিককে সম্পত্তির দলিলসহ এই দপ্তরে উপস্থিত হতে অনুরোধ করা হচ্ছে।',
      'ভবনের রক্ষণাবেক্ষণের জন্য {N} লক্ষ টাকার একটি খরচের হিসাব তৈরি করা হয়েছে।',
      'এই চিঠির একটি প্রতিলিপি বরোর নির্বাহী বাস্তুকারের কাছে পাঠানো হল।',
    ],
  },
  water: {
    notice: [
      'এই বিভাগের নজরে এসেছে যে {P} এলাকার {A} মাটি ও নির্মাণের আবর্জনা দিয়ে ভরাট করা হচ্ছে।',
      'পশ্চিমবঙ্গ অন্তর্দেশীয় মৎস্য আইন অনুযায়ী কোনো পুকুর বা জলাশয় ভরাট করা নিষিদ্ধ।',
      'দায়ী ব্যক্তিদের অবিলম্বে পুকুরের ভরাট বন্ধ করে সাত দিনের মধ্যে আবর্জনা সরাতে নির্দেশ দেওয়া হচ্ছে।',
      '{W} নম্বর ওয়ার্ডে পুকুর ভরাটের কোনো খবর থাকলে এই দপ্তরে জানাতে অনুরোধ করা হচ্ছে।',
      'কলকাতায় জলাশয় রক্ষা করা সকল নাগরিকের দায়িত্ব।',
    ],
    order: [
      'উভয় পক্ষের বক্তব্য শুনে আদেশ দেওয়া হচ্ছে যে {A} সমীক্ষা মানচিত্র অনুযায়ী পূর্বের আয়তনে ফিরিয়ে আনতে হবে।',
      'পুকুরের পূর্ব দিকে বেআইনিভাবে তৈরি বাঁধ সরিয়ে ফেলতে হবে।',
      'বর্ষার আগে {C} পলি তোলা ও কচুরিপানা পরিষ্কারের কাজ করবে।',
      'জলাশয়ে নর্দমার জল ও বর্জ্য ফেলা অবিলম্বে বন্ধ করতে হবে।',
      'বরোর নির্বাহী বাস্তুকার ত্রিশ দিনের মধ্যে আদেশ পালনের প্রতিবেদন দেবেন।',
    ],
    noc: [
      '{P} এলাকার {A} থেকে পলি তোলার কাজে এই বিভাগের কোনো আপত্তি নেই, নিচের শর্তসাপেক্ষে।',
      'জলাশয়ের আয়তন ও গভীরতা কোনোভাবেই কমানো যাবে না।',
      'পুকুর থেকে তোলা পলি পাড়ে ফেলা যাবে না।',
      'মৎস্যজীবী সমবায়ের সম্মতিতে কাজের সময় মাছ চাষ চলতে পারে।',
    ],
    minutes: [
      '{P} এলাকার জলাশয় বিষয়ক সভায় সভাপতিত্ব করেন {O}।',
      'বিষয় ১: {A} এবং {W} নম্বর ওয়ার্ডের একটি পুকুর ভরাটের অভিযোগ পর্যালোচনা করা হয়।',
      'বিষয় ২: {B} ঘিরে হাঁটার পথ তৈরির প্রস্তাব আলোচিত হয়; পথটি জলের উপর দখল করবে না।',
      'বিষয় ৩: বরোর পাঁচ কাঠার বেশি সব পুকুর ও দিঘির সমীক্ষা করার সিদ্ধান্ত হয়।',
      'সভায় উল্লেখ করা হয় যে পলি জমে ও কচুরিপানায় কলকাতার অনেক পুকুরের গভীরতা কমে গেছে।',
    ],
    survey: [
      '{D} তারিখে {W} নম্বর ওয়ার্ডের পুকুর, দিঘি ও অন্যান্য জলাশয়ের সমীক্ষা করা হয়।',
      'সমীক্ষা করা {K}টি জলাশয়ের মধ্যে কয়েকটি আংশিক ভরাট বা দখল হয়ে গেছে।',
      '{A} কচুরিপানায় ঢাকা, দক্ষিণ পাড়ে আবর্জনা ফেলা হয়েছে।',
      'দশটি জায়গায় জলের গভীরতা মাপা হয়েছে; গড় গভীরতা এক মিটারের কম।',
      'সমীক্ষায় পলি তোলা, পাড় ঘেরা এবং আবর্জনা ফেলা বন্ধের সুপারিশ করা হয়েছে।',
    ],
    inspection_report: [
      'স্থানীয় বাসিন্দাদের অভিযোগের ভিত্তিতে নিম্নস্বাক্ষরকারী {D} তারিখে {P} এলাকার {A} পরিদর্শন করেন।',
      'জলাশয়ের উত্তর দিকে নতুন করে মাটি ও আবর্জনা দিয়ে ভরাট দেখা গেছে।',
      'পাড়ে অস্থায়ী ছাউনি ও একটি গ্যারেজ তৈরি করে দখল করা হয়েছে।',
      'কাছের নর্দমার জল পুকুরে পড়ছে এবং জল দূষিত।',
      'ভরাট বন্ধ করে দখল সরানোর সুপারিশ করা হচ্ছে।',
    ],
    photograph: [
      '{D} তারিখে পরিদর্শনের সময় {O} কর্তৃক তোলা {A} আলোকচিত্র।',
      'ছবি ১: নির্মাণের আবর্জনায় ভরাট করা পুকুরের অংশ।',
      'ছবি ২: দিঘির জলের উপর কচুরিপানা।',
      'ছবি ৩: পলি তোলার পর সংস্কার করা ঘাটের সিঁড়ি।',
    ],
    other: [
      '{A} মৎস্যজীবী সমবায়কে ইজারার কাগজপত্র এই দপ্তরে জমা দিতে অনুরোধ করা হচ্ছে।',
      'পলি তোলা ও পাড় ঘেরার জন্য {N} লক্ষ টাকার খরচের হিসাব তৈরি করা হয়েছে।',
      'এই চিঠির একটি প্রতিলিপি বরোর নির্বাহী বাস্তুকারের কাছে পাঠানো হল।',
    ],
  },
  close: ['আদেশানুসারে,', 'স্বাক্ষরিত/-', 'পৌর কমিশনারের অনুমোদনক্রমে জারি করা হল।'],
};

// Sentences any document may carry, so that the corpus shares vocabulary beyond its type.
const EN_COMMON = [
  'The heritage buildings and water bodies of Kolkata are protected under the Kolkata Municipal Corporation Act.',
  'Copies of this document are available for inspection at the Environment & Heritage Department.',
  'The Borough Executive Engineer shall keep the department informed of the progress of the works.',
  'All works shall follow the guidelines of the West Bengal Heritage Commission.',
  'The local councillor of Ward {W} has been informed.',
];
const BN_COMMON = [
  'কলকাতার ঐতিহ্যবাহী ভবন ও জলাশয় কলকাতা পৌরসংস্থা আইনে সুরক্ষিত।',
  'এই নথির প্রতিলিপি পরিবেশ ও ঐতিহ্য বিভাগে দেখা যাবে।',
  'কাজের অগ্রগতি সম্পর্কে বরোর নির্বাহী বাস্তুকার বিভাগকে জানাবেন।',
  '{W} নম্বর ওয়ার্ডের কাউন্সিলরকে বিষয়টি জানানো হয়েছে।',
  'কলকাতায় পুকুর ভরাট রোধে পৌরসংস্থা কঠোর ব্যবস্থা নিচ্ছে।',
];

function fill(template, slots) {
  return template.replace(/\{([A-Z])\}/g, (_, k) => slots[k]);
}

const wordCount = (s) => s.split(/\s+/).filter(Boolean).length;

/** One document's metadata and lines of text. */
function compose(r, i, opts, assets, plan) {
  const { kind, language, scan } = plan;
  const bnBody = language !== 'en';
  const first = r.pick(assets);
  const second = r.next() < 0.35 ? r.pick(assets.filter((a) => a.code !== first.code)) : null;
  const year = r.int(2012, 2025);
  const month = r.int(1, 12);
  const day = r.int(1, 28);
  const date = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  const prefix = r.pick(REF_PREFIX);
  const reference = `${prefix}/${year}/${String(100 + i * 7 + r.int(0, 6)).padStart(4, '0')}`;
  const ward = r.int(1, 144);
  const lang = bnBody ? BN : EN;
  const name = (a) => (bnBody ? a.bn : a.en);
  const slots = {
    A: name(first),
    B: name(second || first),
    P: first.place,
    W: bnBody ? bnNum(ward) : String(ward),
    C: bnBody ? r.pick(CONTRACTORS_BN) : r.pick(CONTRACTORS),
    O: bnBody ? r.pick(OFFICERS_BN) : r.pick(OFFICERS),
    D: bnBody ? `${bnNum(day)} ${MONTHS_BN[month - 1]} ${bnNum(year)}` : `${day} ${MONTHS[month - 1]} ${year}`,
    N: bnBody ? bnNum(r.int(2, 90)) : String(r.int(2, 90)),
    K: bnBody ? bnNum(r.int(5, 40)) : String(r.int(5, 40)),
  };
  const topic = first.water ? 'water' : 'heritage';
  // Titles marked `{W}: ` are about water bodies only; the rest about either.
  const titles = (t) => {
    const water = t[kind].filter((x) => x.startsWith('{W}: ')).map((x) => x.slice(5).replace(/^./, (c) => c.toUpperCase()));
    const either = t[kind].filter((x) => !x.startsWith('{W}: '));
    return first.water && water.length ? water.concat(either) : either;
  };
  let title = fill(r.pick(titles(lang.title)), slots);
  // Mixed documents: a Bengali body under an English subject line, as many offices write.
  if (language === 'bn+en') title = fill(r.pick(titles(EN.title)), { ...slots, A: first.en, B: (second || first).en, P: first.place, W: String(ward) });
  const issuer = r.pick(ISSUERS[bnBody ? 'bn' : 'en']);
  const sentences = r.shuffle(lang[topic][kind]);
  const common = r.shuffle(bnBody ? BN_COMMON : EN_COMMON);
  const body = [];
  const target = r.int(80, 190);
  for (const s of sentences) {
    body.push(fill(s, slots));
    if (wordCount(body.join(' ')) >= target) break;
  }
  for (const s of common) {
    if (wordCount(body.join(' ')) >= target) break;
    body.push(fill(s, slots));
  }
  // Paragraphs of one to three sentences.
  const paragraphs = [];
  for (let k = 0; k < body.length;) {
    const take = Math.min(body.length - k, r.int(1, 3));
    paragraphs.push(body.slice(k, k + take).join(' '));
    k += take;
  }
  const refLabel = bnBody ? 'স্মারক নং' : 'Ref. No.';
  const dateLabel = bnBody ? 'তারিখ' : 'Date';
  const dateShown = bnBody ? `${bnNum(String(day).padStart(2, '0'))}.${bnNum(String(month).padStart(2, '0'))}.${bnNum(year)}` : `${String(day).padStart(2, '0')}.${String(month).padStart(2, '0')}.${year}`;
  const assetLine = (bnBody ? 'সম্পদ: ' : 'Asset: ') + [first, second].filter(Boolean).map((a) => `${name(a)} (${a.code})`).join('; ');
  const signer = slots.O;
  const close = r.pick(lang.close);
  const lines = {
    issuer,
    refline: `${refLabel}: ${reference}`,
    dateline: `${dateLabel}: ${dateShown}`,
    title,
    assetLine,
    paragraphs,
    close,
    signer,
  };
  const text = [issuer, lines.refline, lines.dateline, title, assetLine, ...paragraphs, close, signer].join('\n');
  return {
    kind, language, scan, reference, date, title, issuer,
    assets: [first, second].filter(Boolean).map((a) => a.code),
    ward,
    public: i >= opts.n - opts.private ? false : true,
    lines, text,
  };
}

// --- Rendering ------------------------------------------------------------------------

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function pageHtml(doc, style) {
  const bn = doc.language !== 'en';
  const font = bn ? `'${style.bnFont}', 'Noto Sans Bengali', 'Lohit Bengali', sans-serif` : style.enFont;
  const p = (cls, s) => `<p class="${cls}">${escapeHtml(s)}</p>`;
  const l = doc.lines;
  return `<!doctype html><html lang="${bn ? 'bn' : 'en'}"><head><meta charset="utf-8"><style>
  @page { size: A4; margin: 0; }
  html, body { margin: 0; padding: 0; background: ${style.ground}; }
  .page { box-sizing: border-box; width: 794px; height: 1123px; padding: 70px 80px; background: ${style.paper};
          font-family: ${font}; font-size: ${style.size}px; line-height: 1.5; color: #161616;
          transform: rotate(${style.rotate}deg); transform-origin: 50% 50%; filter: ${style.filter}; }
  .issuer { text-align: center; font-weight: bold; font-size: 1.15em; border-bottom: 2px solid #333; padding-bottom: 8px; margin: 0 0 14px; }
  .meta { margin: 2px 0; }
  .title { font-weight: bold; font-size: 1.1em; margin: 18px 0 10px; }
  .asset { margin: 0 0 12px; }
  .body { text-align: left; margin: 0 0 10px; }
  .close { margin-top: 28px; }
  .signer { margin-top: 4px; font-style: ${bn ? 'normal' : 'italic'}; }
</style></head><body><div class="page">
${p('issuer', l.issuer)}
${p('meta', l.refline)}
${p('meta', l.dateline)}
${p('title', l.title)}
${p('asset', l.assetLine)}
${l.paragraphs.map((x) => p('body', x)).join('\n')}
${p('close', l.close)}
${p('signer', l.signer)}
</div></body></html>`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const r = prng(opts.seed * 7919 + opts.n);
  const assets = register();
  const files = path.join(opts.out, 'files');
  mkdirSync(files, { recursive: true });

  // Languages: half English, half Bengali, a few (1 in 12) of those in both.
  const plans = [];
  const kinds = r.shuffle(Array.from({ length: opts.n }, (_, i) => KINDS[i % KINDS.length]));
  const scanSet = new Set();
  // Scans spread over both languages: every third document of each language first.
  const order = r.shuffle(Array.from({ length: opts.n }, (_, i) => i));
  for (let i = 0; i < opts.n; i++) {
    const language = i % 2 === 0 ? 'en' : (i % 12 === 5 ? 'bn+en' : 'bn');
    plans.push({ kind: kinds[i], language, scan: null });
  }
  const byLang = { en: order.filter((i) => plans[i].language === 'en'), bn: order.filter((i) => plans[i].language !== 'en') };
  for (let k = 0; scanSet.size < opts.scans; k++) {
    const lang = k % 2 === 0 ? 'en' : 'bn';
    const pool = byLang[lang].length ? byLang[lang] : byLang[lang === 'en' ? 'bn' : 'en'];
    scanSet.add(pool.shift());
  }
  const scanForms = ['png', 'pdf', 'jpeg'];
  let s = 0;
  for (const i of [...scanSet].sort((a, b) => a - b)) plans[i].scan = scanForms[s++ % scanForms.length];

  const docs = plans.map((plan, i) => compose(r, i, opts, assets, plan));

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--font-render-hinting=none'],
  });
  const textCtx = await browser.newContext({ viewport: { width: 794, height: 1123 } });
  // About 240 dpi: an A4 page (794 CSS px wide at 96 dpi) at 2.5 device pixels per CSS px.
  const scanCtx = await browser.newContext({ viewport: { width: 794, height: 1123 }, deviceScaleFactor: 2.5 });
  const textPage = await textCtx.newPage();
  const scanPage = await scanCtx.newPage();
  const wrapPage = await textCtx.newPage();

  const truth = {};
  const manifest = [['file', 'type', 'reference', 'date', 'assets', 'public', 'title', 'issuer', 'language', 'ward']];
  for (let i = 0; i < docs.length; i++) {
    const d = docs[i];
    const base = `doc-${String(i + 1).padStart(4, '0')}-${d.language.replace('+', '')}-${d.kind}`;
    // Scans: slightly turned on a grey ground, some; text PDFs: white and straight.
    const realistic = d.scan && i % 2 === 0;
    const style = {
      ground: realistic ? '#c9c7c2' : '#ffffff',
      paper: realistic ? '#f1efe9' : '#ffffff',
      rotate: realistic ? ((r.next() * 1.6) - 0.8).toFixed(2) : 0,
      filter: realistic ? 'blur(0.3px) contrast(0.92)' : 'none',
      size: d.scan ? 16 : 15,
      enFont: r.pick(["'Liberation Serif', serif", "'Noto Serif', serif", "'Liberation Sans', sans-serif", "'Noto Sans', sans-serif"]),
      bnFont: r.pick(['Noto Sans Bengali', 'Noto Serif Bengali', 'Lohit Bengali']),
    };
    const html = pageHtml(d, style);
    let file;
    if (!d.scan) {
      file = `${base}.pdf`;
      await textPage.setContent(html, { waitUntil: 'load' });
      await textPage.evaluate(() => document.fonts.ready);
      await textPage.pdf({ path: path.join(files, file), width: '210mm', height: '297mm', printBackground: true, pageRanges: '1' });
    } else {
      await scanPage.setContent(html, { waitUntil: 'load' });
      await scanPage.evaluate(() => document.fonts.ready);
      const type = d.scan === 'jpeg' ? 'jpeg' : 'png';
      const shot = await scanPage.screenshot({ type, quality: type === 'jpeg' ? 85 : undefined, fullPage: false });
      if (d.scan === 'pdf') {
        // The image alone on an A4 page: a PDF with no text layer, as a scanner makes.
        file = `${base}.pdf`;
        const img = `data:image/png;base64,${shot.toString('base64')}`;
        await wrapPage.setContent(`<!doctype html><html><head><style>@page{size:A4;margin:0}html,body{margin:0}
          img{display:block;width:210mm;height:297mm}</style></head><body><img src="${img}"></body></html>`, { waitUntil: 'load' });
        await wrapPage.pdf({ path: path.join(files, file), width: '210mm', height: '297mm', printBackground: true, pageRanges: '1' });
      } else {
        file = `${base}.${type === 'jpeg' ? 'jpg' : 'png'}`;
        writeFileSync(path.join(files, file), shot);
      }
    }
    truth[file] = {
      text: d.text, language: d.language, kind: d.kind, scanned: !!d.scan, scan_form: d.scan || 'text-pdf',
      reference: d.reference, date: d.date, title: d.title, issuer: d.issuer, assets: d.assets, ward: d.ward,
      public: d.public,
    };
    manifest.push([`files/${file}`, d.kind, d.reference, d.date, d.assets.join(';'), String(d.public), d.title, d.issuer, d.language, String(d.ward)]);
  }
  await browser.close();

  const csv = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  writeFileSync(path.join(opts.out, 'manifest.csv'), manifest.map((row) => row.map(csv).join(',')).join('\n') + '\n');
  writeFileSync(path.join(opts.out, 'truth.json'), JSON.stringify({ seed: opts.seed, n: opts.n, files: truth }, null, 1));
  const count = (f) => Object.values(truth).filter(f).length;
  console.log(JSON.stringify({
    documents: docs.length,
    text_pdfs: count((t) => !t.scanned),
    scans: count((t) => t.scanned),
    scans_en: count((t) => t.scanned && t.language === 'en'),
    scans_bn: count((t) => t.scanned && t.language !== 'en'),
    languages: { en: count((t) => t.language === 'en'), bn: count((t) => t.language === 'bn'), 'bn+en': count((t) => t.language === 'bn+en') },
    private: count((t) => !t.public),
  }));
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
