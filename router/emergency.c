/*
 * emergency.c - rule-based emergency detection
 *
 * Called by the router on every message before anything else (em_check).
 * A missed emergency is the worst failure the front desk can have, and a
 * false one sends staff running: so this is a hand-written, reviewable
 * table, not a model.  A message is normalised (textnorm.c), split into
 * words with apostrophes dropped ("won't" = "wont"), and every rule is
 * tried:
 *
 *   any	anchor terms; the rule can fire where one of them occurs
 *   with	context terms, one of which must start within win words of the
 *		anchor (NULL = the anchor alone is enough; win 0 = anywhere)
 *   also	a second context set with the same window (what was stolen,
 *		and that it is happening here and now)
 *   near_not	guards: the anchor does not count when one starts within vwin
 *		words of it ("radar gun", "the ball hit the ceiling"); a negative
 *		vwin looks only before the anchor ("my swing is on fire")
 *   not	guards anywhere in the message ("threatening to quit", "lol",
 *		"what if")
 *   neg	the anchor does not count right after a negation ("no smoke")
 *   weak	counts only when no other rule fired ("911", "police")
 *
 * Terms are '|'-separated; a term may be a phrase ("not breathing"), and a
 * word ending in '*' matches any word it begins ("evacuat*").  When rules of
 * several kinds fire, the slug is the most severe: fire > medical >
 * security > water > power.  Only the first EM_MAX_TEXT bytes are read.
 */
#include "router/emergency.h"
#include "common/textnorm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EM_MAX_TEXT 8192
#define EM_MAX_TOKENS 2048

enum em_slug { EM_FIRE, EM_MEDICAL, EM_SECURITY, EM_WATER, EM_POWER, EM_NSLUGS };

/* In order of severity. */
static const char *const em_slugs[EM_NSLUGS] = {
    "emergency.fire-smoke", "emergency.medical",      "emergency.security-threat",
    "emergency.water-leak", "emergency.power-outage",
};

struct em_rule {
	enum em_slug slug;
	const char  *name;
	const char  *any;
	const char  *with;
	int          win;
	const char  *near_not;
	int          vwin;
	const char * not ;
	int         neg;
	int         weak;
	const char *also;     /* a second context set, same window (NULL = none) */
	int         possible; /* fires only a possible emergency */
	int         shout;    /* fires only in a message of at most this many words */
};

/* Shared word sets. */
#define EM_PERSON                                                                                  \
	"he|she|him|her|hes|shes|someone|somebody|guy|guys|man|men|woman|"                         \
	"women|lady|person|people|friend|buddy|dad|father|mom|mum|mother|husband|wife|"            \
	"son|daughter|kid|kids|child|boy|girl|brother|sister|partner|customer|player|"             \
	"grandpa|grandma|uncle|aunt|cousin|boyfriend|girlfriend|coworker|colleague|"               \
	"teammate|guest|stranger|they|theyre|member|dude|gentleman|bro|mate|baby|"                 \
	"toddler|teen|teenager|old man|old lady|one of them|one of us|my friend"
#define EM_JOKE                                                                                    \
	"lol|lmao|lmfao|rofl|haha|hahaha|hehe|jk|just kidding|kidding|joking|jokes|"               \
	"figuratively|\xf0\x9f\x98\x82|\xf0\x9f\xa4\xa3|\xf0\x9f\x98\x86|\xf0\x9f\x98\x85"
#define EM_HYPO                                                                                    \
	"in case of|in the event of|just in case|in case|can i bring|can we bring|may i bring|"    \
	"ok to bring|okay to bring|allowed to bring|je peux amener|peut on amener|what if|"        \
	"what happens if|what do we do if|"                                                        \
	"what should we do if|if there is a|if theres a|if there was|if there were|"               \
	"if someone|if somebody|if a customer|if a guest|is there a policy|policy on|"             \
	"if the alarm|if the power|if the fire|if a fire|if the water|if it floods|if we smell|"   \
	"if a pipe|if the pipe|if pipes|if the pipes|si un tuyau|si les tuyaux|"                   \
	"by mistake|false alarm|false alarms|who do we call if|who do i call if|"                  \
	"what do i do if|what should i do if|what would i do if|what would i even do if|"          \
	"what would we do if|what would we even do if|what would happen if|what would you do if|"  \
	"if i got stuck|if we got stuck|if i get stuck|if we get stuck|if i ever|if we ever|"      \
	"que ferais je si|qu est ce que je ferais si|"                                             \
	"procedure for|fire drill|training|hypothetically|hypothetical|suppose|supposing|"         \
	"could a ball|could the ball|can a ball|can the ball|could it hurt|can it hurt|"           \
	"will it hurt|would it hurt|is it safe|is it dangerous|"                                   \
	"lets say|let us say|say someone|say somebody|say a guest|say a customer|imagine if|"      \
	"evacuation plan|emergency plan|safety plan|evacuation route|evacuation procedure|"        \
	"just curious|if a ball|if the ball|if my ball|could it catch|can it catch|would it "      \
	"catch|"                                                                                   \
	"in an emergency|during an emergency|if theres an emergency|if there is an emergency|"     \
	"if there was an emergency|would you call|en cas de|en cas d|que faire si|"                \
	"que faire s il|qu est ce qu on fait si|qu est ce qu on fait s il|si jamais|au cas ou|"    \
	"s il y a|s il y avait|si il y a|si y a|si y avait|la procedure si|admettons|mettons que|" \
	"supposons|procedure en cas|quoi faire si|mettons qu|admettons qu|supposons qu|"           \
	"il y aurait|y aurait un|y aurait une|si quelqu un|si qqn|si quelquun"
#define EM_ASK                                                                                     \
	"do you have|do you guys have|is there|are there|where is|wheres|where are|"               \
	"where can i find|where do you keep|how many|do you sell|restock*|est ce qu il y a|"       \
	"y a t il|avez vous|ou est|ou sont"
#define EM_TECH                                                                                    \
	"screen|screens|projector|pc|computer|sim|simulator|trackman|tv|tvs|"                      \
	"monitor|display|kiosk|app|website|site|page|software|game|system|laptop|"                 \
	"ipad|tablet|phone|remote|mouse|keyboard|speaker|speakers|wifi|internet|"                  \
	"network|router|account|login|popup|pop up|window|message|error|ad|tracker|radar|sensor|"  \
	"notification|program"
#define EM_GOLF                                                                                    \
	"slice|slicing|hook|hooking|shank|shanking|swing|swings|shot|shots|"                       \
	"drive|drives|driver|putt|putts|putting|putter|iron|irons|wedge|chip|chipping|"            \
	"round|hole|holes|course|fairway|green|tee|strokes|score|scorecard|par|birdie|"            \
	"bogey|handicap|ball|balls|game|golf|match|lead|streak"
#define EM_PERSON_FR                                                                               \
	"homme|hommes|femme|femmes|gars|type|monsieur|madame|dame|client|cliente|clients|"         \
	"individu|quelqu un|inconnu|inconnue|enfant|enfants|ami|amie|chum|blonde|pere|mere|"       \
	"fils|fille|frere|soeur|jeune|jeunes|il|elle|ils|elles|nous|moi"

/* Watching the sport, not a report: "Rory was on fire at the Masters". */
#define EM_SPORT                                                                                   \
	"masters|tournament|pga|lpga|pga tour|the open|us open|ryder cup|championship|"            \
	"playoff|playoffs|leaderboard|final round|highlights|broadcast|wish i could|"              \
	"play like|putt like|swing like"
/* Who or what is "on fire" when it is praise, in the three words before. */
#define EM_ON_FIRE_NOT                                                                             \
	"swing|game|putt|putts|putting|putter|driver|drives|driving|irons|wedges|chipping|"        \
	"short game|im|i|were|we|youre|you|hes|he|shes|she|they|theyre|team|guys|streak|round|"    \
	"score|shots|shot|golf|tonight|today|buddy|friend|bro|dude|crushing|hitting|playing|"      \
	"back|legs|arms|shoulder|shoulders|hands|feet|knees|muscles|skin|throat|wrist|elbow|"      \
	"forearms|hips|lungs"
#define EM_ON_FIRE_PRAISE                                                                          \
	"hot streak|on fire tonight|on fire today|best in town|best sim|love it|love this|"        \
	"awesome|amazing|so good|killing it|crushing it|\xf0\x9f\x94\xa5"
/* Parts of the body an injury is told by. */
#define EM_BODY                                                                                    \
	"knee|knees|ankle|ankles|wrist|wrists|lower back|shoulder|shoulders|elbow|neck|hip|"       \
	"hips|hamstring|groin|calf|rib|ribs|chest|side|genou|cheville|poignet|dos|epaule|cou|"     \
	"hanche|cote|cotes|left arm|chest|bras gauche|poitrine"

#define EM_NEG_LIST                                                                                \
	"no|not|isnt|arent|wasnt|werent|never|without|dont|doesnt|didnt|"                          \
	"nothing|none|nobody|no one|zero|pas|aucun|aucune|sans|jamais|rien"

static const struct em_rule em_rules[] = {
    /* ---- fire and smoke ---- */
    {EM_FIRE, "fire-alarm",
     "fire alarm*|smoke alarm*|smoke detector*|fire bell*|alarm|alarms|alarm system",
     "going off|went off|goes off|go off|gone off|sounding|sounded|ringing|blaring|"
     "screaming|wailing|blasting|triggered|activated|keeps going|wont stop|started|"
     "is on|are on",
     6,
     "phone|clock|snooze|car|my alarm|set an alarm|set alarm|alarm for|wake up|"
     "chirp*|battery|batteries|door alarm|to go off|set the|set up|set my|set a|"
     "wake me|tomorrow|daybreak|alarm clock|second alarm|one alarm",
     4, EM_HYPO "|test|testing|tested|scheduled|planned", 1, 0, NULL, 0, 0},
    /* "on fire" is also praise, for a player on television too; "caught
     * fire" and "in flames" seldom are. */
    {EM_FIRE, "on-fire", "on fire", NULL, 0, EM_ON_FIRE_NOT, -3,
     EM_JOKE "|" EM_HYPO "|" EM_ON_FIRE_PRAISE "|" EM_SPORT, 1, 0, NULL, 0, 0},
    {EM_FIRE, "caught-fire",
     "caught fire|catching fire|catch fire|in flames|went up in flames|"
     "burst into flames|ablaze|engulfed",
     NULL, 0, EM_ON_FIRE_NOT, -3, EM_JOKE "|" EM_HYPO "|" EM_ON_FIRE_PRAISE, 1, 0, NULL, 0, 0},
    {EM_FIRE, "fire",
     "flames|fire spreading|fire started|fire broke out|theres a fire|there is a fire|"
     "small fire|big fire|a fire in|a fire on|fire in the|fire in our|fire at the|"
     "fire in bay|fire at bay|fire near bay|fire by bay|fire in here|fire in there|"
     "fire in my|fire in his|fire in her|fire in their|fire in your|fire in one|"
     "fire behind|fire under|fire near|fire by the|fire coming|"
     "fire department|fire dept|firefighter*|evacuat*|electrical fire|grease "
     "fire|kitchen fire|started a fire|"
     "theres a flame|there is a flame|open flame|a flame|see fire|seeing fire|saw fire|"
     "see flames|saw flames",
     NULL, 0,
     "fire in the hole|fire pit|firepit|fire emoji|flames emoji|on fire|"
     "belly|eyes|heart|soul|veins|"
     "team|outing|event|party|discount|fundraiser|tour|charity|booking|league|truck|trucks",
     3,
     EM_JOKE "|" EM_HYPO "|fire up|fire it up|fire sale|so fire|straight fire|"
             "this is fire|thats fire|that is fire|its fire|it is fire|place is fire|"
             "sim is fire|music is fire|course is fire|game is fire|food is fire|"
             "where is the fire extinguisher located|fire extinguisher inspection|"
             "im a firefighter|i am a firefighter|firefighter discount|first responder*",
     1, 0, NULL, 0, 0},
    /* A fire truck is here for us unless it is somewhere down the road. */
    {.slug = EM_FIRE,
     .name = "fire-truck",
     .any = "fire truck|fire trucks|firetruck|firetrucks|camion de pompier|camions de pompier",
     .not = EM_JOKE "|" EM_HYPO "|toy|birthday|party|kids|across the street|across the road|"
                    "down the street|down the road|up the street|up the road|next door|"
                    "drove by|went by|driving by|passing by|on the highway|en face|"
                    "de l autre cote|dans la rue",
     .neg = 1},
    {EM_FIRE, "smoke", "smoke|smoky|smokey|smoldering|smouldering|smoak|smoake|smoaky", NULL, 0,
     "detector|detectors|alarm|alarms|"
     "cigar*|vape*|vaping|weed|joint|smoke break|smoke area|smoke pit|smoke shop|"
     "clothes|clothing|jacket|hair|cigs|from someone|smoker|smokers|"
     "smoke free|smoke it|smoke that|smoke my|smoke your|smoke him|smoke them|"
     "smoke show|smoke the|smoke outside|go for a smoke|have a smoke|for a smoke|"
     "holy smoke|smoke and mirrors|smoke screen|smokescreen|smoke some|smoke a|"
     "smoke in the car|smokes|smoked|where can i|where do i|where can we",
     3,
     EM_JOKE "|" EM_HYPO "|allowed|permitted|policy|can i smoke|can we smoke|"
             "ok to smoke|okay to smoke|no smoking",
     1, 0, NULL, 0, 0},
    {EM_FIRE, "smoking", "smoking",
     "coming|pouring|everywhere|from|out of|behind|inside|smell*|smelt|see|"
     "burning|fire|ceiling|vent|vents|outlet|wall|projector|pc|computer|screen|"
     "machine|wire*|panel|heater|plug|socket|cable|cord|power bar|power strip|"
     "charger|light|fixture|unit|box|fan|motor|kitchen|microwave|toaster|fridge|"
     "freezer|cooler|appliance|printer|dryer|tower|cabinet|console|battery|"
     "something|desk|under|table|counter|bag|backpack|trash|garbage|bin|"
     "electrical|sparking|sparks|hot|melting",
     6,
     "cigar*|vape*|vaping|weed|smoking break|smoking area|smoking section|"
     "smoking allowed|smoking my|smoking hot|smoking the|smoking a|smoking outside|"
     "smoking in the car|no smoking",
     3,
     EM_JOKE "|" EM_HYPO "|allowed|permitted|policy|can i smoke|can we smoke|"
             "ok to smoke|okay to smoke|is smoking ok",
     1, 0, NULL, 0, 0},
    {EM_FIRE, "burning-smell", "burning|burnt|burned|scorched|charred|scorching",
     "smell|smells|smelling|smelled|smelt|plastic|rubber|wire|wires|wiring|odor|odour|"
     "electrical|outlet|plug|cable|socket|insulation|hazy|haze|smoke|smoky|hot",
     5,
     "burned through|burning through|burnt out|burned out|burning a|burn a|"
     "burning up the|calories|sunburn*|heartburn|burning daylight|burned by|"
     "burnt toast|cd",
     3, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_FIRE, "sparks",
     "sparking|sparked|sparks|spark coming|spark came|arcing|arced|short circuit*|"
     "shorted out|electrical fire",
     NULL, 0,
     "joy|interest|idea|ideas|conversation|debate|romance|sparked a|sparks a|"
     "spark plug*|sparks fly between|creativity|motivation|is it|weather|raining|"
     "cloudy|sunny|temperature|forecast|nevada|nv|flight|drive to|directions|"
     "conditions|atmospheric",
     3, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_FIRE, "glowing", "glowing|glows|glowed",
     "orange|red|crackl*|smoke|smoking|hot|melting|ceiling|wall|outlet|socket|wire*|"
     "plug|panel|fixture|cable*|vent|behind|sizzl*|popping",
     6,
     "screen|projector|logo|led|leds|neon|sign|ball|tracer|trail|review*|skin|"
     "light up|lit up|reviews",
     4, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_FIRE, "melting", "melting|melted|melts",
     "plastic|wire*|cable*|plug|outlet|socket|cord|ceiling|light|fixture|smell*|"
     "projector|pc|computer|panel|insulation|extension",
     5, "ice|snow|cheese|chocolate|brain|heart|butter|face off", 3, EM_JOKE "|" EM_HYPO, 1, 0, NULL,
     0, 0},
    {EM_FIRE, "gas-smell",
     "gas leak|gas leaking|leaking gas|smell gas|smells like gas|smelled gas|gas is leaking|"
     "reeks of gas|reeks like gas|stinks of gas|stinks like gas|odor of gas|odour of gas|"
     "smell of gas|gas smell|smelling gas|smells of gas|carbon monoxide|co alarm|"
     "co detector|propane leak|smells a little like gas|smells a bit like gas|"
     "smells kind of like gas|smells kinda like gas|little like gas|bit like gas",
     NULL, 0, "station|stations|price*|money|mileage|tank", 3, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0,
     0},

    /* ---- medical ---- */
    {EM_MEDICAL, "unresponsive",
     "unconscious|unresponsive|passed out|fainted|fainting|faint|blacked out|"
     "knocked out|knocked unconscious|out cold|not breathing|isnt breathing|"
     "stopped breathing|cant breathe|cannot breathe|can not breathe|trouble breathing|"
     "struggling to breathe|hard to breathe|difficulty breathing|gasping for air|"
     "seizure|seizures|seizing|convulsing|convulsions|having a fit|overdose*|"
     "overdosing|cardiac|heatstroke|heat stroke|concussion|panic attack|hyperventilat*|"
     "concussed|stroke symptoms|having a stroke|had a stroke|is dying|hes dying|"
     "shes dying|asthma attack|having an asthma|low blood sugar|blood sugar is low|blood sugar "
     "crashed|hypoglyc*|"
     "insulin shock|diabetic shock|diabetic emergency|turning blue|lips are blue|"
     "lips going blue|lips turning blue|lips went blue|lips look blue|is gasping|hes gasping|"
     "shes gasping|gasping for breath|"
     "going to pass out|gonna pass out|about to pass out|might pass out|could pass out|"
     "going to faint|gonna faint|about to faint|feel faint|feeling faint|"
     "cant catch his breath|cant catch her breath|cant catch their breath|"
     "cant catch my breath|cannot catch his breath|cannot catch her breath|"
     "cant breath|cannot breath|can not breath|cant breath properly|turning grey|turning gray|"
     "going grey|going gray|gone grey|gone gray|went grey|went gray|went limp|gone limp|"
     "seeing double|sees double|seeing two of|vision went blurry|"
     "wheezing hard|wheezing really|wheezing so|wheezing a lot|barely breathing|"
     "can barely breathe|can hardly breathe|cant get air|can barely talk|can hardly talk|"
     "wheezing badly|inhaler is empty|"
     "no inhaler|needs his inhaler|needs her inhaler|head injury|head wound|"
     "blessure a la tete",
     NULL, 0,
     EM_TECH "|power|lights|the lights|screen|sim|the round|the competition|"
             "laughing|laughin|laugh|laughs|laughter|over here|of boredom|to know|to try|"
             "to play|to see|rehab|physio|recovery|recovering",
     3,
     EM_JOKE "|" EM_HYPO "|knocked out of|knocked out the|leafs game|habs game|oilers game|"
             "hockey game|football game|nhl|nfl|ufc|mma|boxing match|on tv|the replay|"
             "on a stretcher",
     1, 0, NULL, 0, 0},
    {.slug = EM_MEDICAL,
     .name = "diabetic",
     .any = "diabetic|diabetes|blood sugar|insulin|diabetique|diabete|sucre",
     .with = "shaky|shaking|sweaty|sweating|not making sense|confused|passing out|passed out|"
             "faint|dizzy|slurring|wont wake|cant wake|low|crashing|tremble|confus|confuse|"
             "en sueur|perd connaissance|fait une hypo|hypo",
     .win = 10,
     .near_not = "menu|snack|snacks|options|sugar free|diet|sans sucre|policy",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|" EM_ASK,
     .neg = 1},
    {EM_MEDICAL, "heart-attack",
     "heart attack|heart problems|heart stopped|heart is racing and|chest pain*|"
     "chest hurts|chest is hurting|chest tight*|tightness in his chest|"
     "tightness in her chest|tightness in my chest|pain in his chest|pain in her chest|"
     "pain in my chest|pain in the chest|pain in the left arm|left arm pain|left arm hurts|"
     "clutching his chest|clutching her chest|pressure in his chest|"
     "pressure in her chest|pressure in my chest|pressure on my chest|pressure on his chest|"
     "chest pressure|crushing chest|arm is numb|arm went numb|face drooping|face is drooping|"
     "slurring|slurred speech|speech is slurred|is slurred|all slurred|slurred words|"
     "words are slurred|grey and sweating|gray and sweating|pale and sweating|pale and clammy|"
     "grey and clammy|gray and clammy|in a cold sweat|talking funny|one side of his face|"
     "one side of her face|in labor|in labour|water broke|contractions|going into labor|"
     "going into labour",
     NULL, 0, NULL, 0,
     EM_JOKE "|" EM_HYPO "|my heart stopped|my heart skipped|gave me a heart attack|"
             "give me a heart attack|"
             "giving me a heart attack|nearly had a heart attack|almost had a heart attack|"
             "gonna have a heart attack|going to have a heart attack|"
             "heart attack on a plate|my wallet|wallet is|bank account|credit card|my bank",
     1, 0, NULL, 0, 0},
    /* a chest told with words between ("his chest is super tight") */
    {.slug = EM_MEDICAL,
     .name = "chest",
     .any = "chest",
     .with = "tight|tightness|tightening|hurts|hurting|pain|pains|pressure|crushing|squeezing|"
             "heavy|burning|clutching|clutches|clutched|grabbing|grabbed|holding his|"
             "holding her|holding my",
     .win = 4,
     .near_not =
         "chest day|chest press|chest workout|gym|bench press|benching|drawers|treasure|protector|"
         "laughing|laugh|cold|cough|coughing|pushups|push ups|workout|muscle|pec|pecs|"
         "bra|shirt|pocket|sunburn",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|ago",
     .neg = 1},
    /* a ball to the head told the long way ("took a ball off the wall
     * straight to the temple") */
    {.slug = EM_MEDICAL,
     .name = "ball-head",
     .any = "ball|balle",
     .with = "to the head|to the temple|to the face|to the eye|in the head|in the face|"
             "in the eye|in the temple|off the head|off his head|off her head|off the face|"
             "off his face|off her face|his temple|her temple|the temple|dans la tete|"
             "dans la face|dans l oeil|sur la tete|sur la tempe|dans la tempe",
     .win = 9,
     .also = "hit|hits|struck|took|takes|caught|smacked|whacked|nailed|drilled|bounced|"
             "ricocheted|came back|flew|pogne|recu|rebondi|frappe",
     .near_not = "head of the club|club head|headcover*|face of the club|club face|clubface|"
                 "ball flight|ball speed|face angle|off the heel|off the toe",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|last month|ago",
     .neg = 1},
    {EM_MEDICAL, "choking", "choking|choked|is choking",
     EM_PERSON "|on a|on food|on his|on her|on something|cant breathe|cough*|"
               "heimlich",
     4,
     EM_GOLF "|choking another|choking him|choking her|choking someone|choking somebody|"
             "choking a guy|choking the guy|choking my|choked him|choked her|"
             "pressure|again|final|tournament|under|gagging on the|choke the|"
             "choking the|choked the|choked on the|choking on the|choking on this|"
             "choked on this|choked away|choking away|im choking|i choked|we choked",
     4, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_MEDICAL, "fracture", "broken|broke|fractured|fracture|snapped|dislocated|shattered",
     "arm|leg|wrist|ankle|nose|finger|fingers|hand|collarbone|rib|ribs|jaw|shoulder|"
     "bone|bones|hip|foot|toe|elbow|knee|kneecap|skull|neck|back",
     3,
     "shaft|club|clubs|driver|putter|tee|tees|screen|glass|record|streak|leg of|"
     "back nine|front nine|broke back|broken back nine|hand warmer|arm rest|armrest|"
     "back wall|back door|back room|back of the|stool|stools|chair|chairs|table|"
     "tables|bench|benches|desk|cart|tripod|stand|legs on",
     3,
     EM_JOKE "|" EM_HYPO "|last week|last month|last year|years ago|cast|"
             "cancel|refund|reschedule",
     1, 0, NULL, 0, 0},
    {EM_MEDICAL, "head-injury",
     "hit|struck|caught|smacked|clipped|whacked|cracked|nailed|drilled|beaned|bumped|banged|"
     "bonked|smashed|knocked|took|takes|taken|got",
     "in the head|his head|her head|my head|their head|the head|on the head|"
     "in the face|his face|her face|my face|the face|in the eye|his eye|her eye|"
     "my eye|the eye|skull|temple|teeth|tooth|mouth|jaw|nose|in the throat|"
     "back of the head|side of the head|in the neck|to the head|to the face|"
     "to the eye|to the temple|to the mouth|to the nose|to the jaw",
     6,
     "head of the club|club head|clubhead|headcover*|head cover*|head of my|"
     "driver head|putter head|the head of|head pro|head coach|head office|"
     "cracked the head|broke the head|snapped the head|bent the head|head came off|"
     "head flew off|head fell off|head snapped off|head on one of|head on the club|"
     "came off the face|comes off the face|coming off the face|off the face weird|"
     "face of the club|club face|clubface|face of my|face of the|face of one|face of a|"
     "the face cracked|face cracked|face is cracked|face got cracked|face on one|"
     "face on the|face on my|face on a|face on our",
     4, EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|last month", 1, 0, NULL, 0, 0},
    {EM_MEDICAL, "bleeding",
     "bleeding|bleeds|bled|blood|nosebleed|nose bleed|gash|gashed|laceration|"
     /* a deep cut told by what it does, not by the word blood */
     "sliced my|sliced his|sliced her|sliced open|split open|cut open|deep cut|cut deep|"
     "soaking through|soaked through|wont stop bleeding",
     NULL, 0,
     "drive|drives|shots|ball|right off|left off|right every|left every|right all|left all|"
     "to the right|to the left|slice|slicing|hook|hooking|putts|irons|"
     "strokes|greens|pars|bogeys|birdies|points|yards|distance|"
     "bleeding money|bleeding cash|blood type|blood pressure|for blood|skins|wager|"
     "blood orange|wallet|bank|"
     "budget|pockets|pocket|account|"
     "bloody mary|bad blood|first blood|blood moon|in my blood|blood drive|"
     "blood test|blood sugar|bleeding edge|blood sport|bloodbath|blood bath|song|"
     "dish|sausage|pudding|brothers|movie|film|band|album|recipe|colour|colours|"
     "foam|stuffing|paint|glue|scorecard|score card|my score|our time|my time|ice|nhl|"
     "hockey|ufc|mma|boxing|"
     "color|colors|ink|image|picture|" EM_TECH,
     3,
     EM_JOKE "|" EM_HYPO "|last week|yesterday|"
             /* "so loud my ears are bleeding" */
             "so loud|too loud|volume|cranked|deafening|blasting",
     1, 0, NULL, 0, 0},
    {EM_MEDICAL, "allergic-reaction",
     "allergic reaction|anaphyla*|epipen|epi pen|epi-pen|throat closing|"
     "throat is closing|throat is swelling|throat swelling|tongue swelling|"
     "face swelling|swelling up|swollen up|puffing up|puffed up|breaking out in hives|"
     "hives",
     NULL, 0, NULL, 0,
     EM_JOKE "|" EM_HYPO "|do you have|do you sell|menu|ingredients|options|"
             "nut free|peanut free|bringing my|bringing her|bringing his|store my|keep my|"
             "fridge on site|a fridge",
     1, 0, NULL, 0, 0},
    {EM_MEDICAL, "swelling", "swelling|swollen|swelled|swell|swells",
     "face|throat|tongue|lips|lip|eyes|eye|allerg*|reaction|peanut*|nut|nuts|bee|"
     "sting|stung|wasp|breath*|hives|rash|neck|mouth|after eating|ate",
     8, "ankle|knee|wrist|elbow|finger|toe|crowd|swell time|swell guy|swell of", 4,
     EM_JOKE "|" EM_HYPO "|do you have|do you sell|menu|ingredients|options|"
             "nut free|peanut free",
     1, 0, NULL, 0, 0},
    {EM_MEDICAL, "collapse",
     "collapsed|collapses|collapsing|keeled over|fell over|dropped to the floor|"
     "dropped to the ground|hit the floor|hit the ground|fell and hit|fell off|"
     "fell down|took a bad fall|bad fall|fallen and|went down hard|gone down hard|"
     "hit the deck|face planted|faceplanted|fallen down|has fallen|have fallen|"
     "fallen over|fallen on the floor",
     EM_PERSON "|not waking|isnt waking|wont wake|cant wake|not breathing|not responding|"
               "unconscious|will not wake|does not wake|doesnt wake",
     6,
     "net|nets|tent|screen|shelf|stand|menu|ball|balls|club|clubs|bag|bags|phone|"
     "tee|market|stock*|team|lead|round|back nine|ceiling|wall|roof|sign|tv|price*|pole|poles|"
     "laughing|chair|drink|glass|bottle|keys|wallet",
     4, EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|almost fell|nearly fell", 1, 0, NULL, 0,
     0},
    /* someone who went down and does not answer ("just dropped after his
     * swing and isn't answering"); dropping someone off is not it */
    {EM_MEDICAL, "went-down", "went down|just went down|has gone down|just dropped|dropped to",
     "not answering|isnt answering|wont answer|not responding|isnt responding|wont respond|"
     "not moving|isnt moving|hasnt moved|breathing weird|breathing funny|breathing strange|"
     "breathing strangely|eyes closed|not waking|wont wake|cant wake|out cold",
     10,
     EM_TECH "|price|prices|score|stock*|ball|balls|call|line|wifi|internet|server|off|"
             "him off|her off|them off",
     4, EM_JOKE "|" EM_HYPO "|last week|yesterday|last time", 1, 0, NULL, 0, 0},
    {EM_MEDICAL, "down-unresponsive",
     "on the floor|on the ground|on the * floor|on the * ground|lying there|lying in|"
     "laying in|lying outside|lying down|"
     "laying there|lying on|laying on|slumped|passed out on",
     "not moving|hasnt moved|hasnt budged|not responding|isnt responding|"
     "wont respond|unresponsive|isnt moving|not moving much|isnt moving much|"
     "isnt waking|"
     "cant wake|wont wake|not waking|not talking|not really talking|isnt talking|"
     "not breathing|not answering|wont answer|isnt answering|doesnt answer|breathing weird|"
     "breathing funny|breathing strange|"
     "confused|bleeding|shaking|twitching|out cold|"
     "eyes closed|eyes rolled|pale|turning blue|groaning|moaning|cant get up|"
     "wont get up|not getting up|cant move|not making sense",
     10, NULL, 0, EM_JOKE "|" EM_HYPO, 0, 0, NULL, 0, 0},
    {EM_MEDICAL, "cant-wake",
     "cant wake|cannot wake|can not wake|wont wake|not waking|cant get him up|"
     "cant get her up|cant rouse|wont come to|not coming to|not coming round",
     NULL, 0, EM_TECH, 4, EM_JOKE "|" EM_HYPO, 0, 0, NULL, 0, 0},
    {EM_MEDICAL, "hurt-badly",
     "seriously injured|badly injured|badly hurt|hurt badly|seriously hurt|"
     "really hurt himself|really hurt herself|hurt himself|hurt herself|"
     "injured himself|injured herself|got injured|is injured|has been injured|"
     "severe pain|in agony|screaming in pain|crying in pain|cant stand up|"
     "cant put weight|cant get up|cannot get up|can not get up|unable to get up|"
     "diabetic low|blood sugar low|sugar is low|having a low",
     NULL, 0, NULL, 0,
     EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|last month|cancel|refund|"
             "reschedule|insurance|waiver|liability",
     1, 0, NULL, 0, 0},
    {EM_MEDICAL, "ambulance",
     "ambulance|paramedic*|emt|emts|medical emergency|need a doctor|"
     "need medical help|need medical attention|needs first aid|need first aid|"
     "call a doctor",
     NULL, 0, EM_ASK "|does|do they|service|services|next door", -6,
     EM_JOKE "|" EM_HYPO "|where is the first aid kit located|restock*|insurance", 1, 0, NULL, 0,
     0},
    {EM_SECURITY, "kept-inside",
     "scared to leave|afraid to leave|too scared to leave|scared to go outside|"
     "afraid to go outside|scared to go out|afraid to go out|scared to walk out|"
     "afraid to walk out|wait for us outside|waiting for us outside|waiting outside for us|"
     "wait for me outside|waiting for me outside|peur de sortir|il nous attend dehors|"
     "nous attend dehors|m attend dehors",
     NULL, 0, "rain|snow|storm|weather|cold|dark out|ice|icy|uber|cab|taxi|ride|mom|dad|parents", 6,
     EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_MEDICAL, "911", "911|nine one one|emergency services", NULL, 0, NULL, 0,
     EM_JOKE "|" EM_HYPO "|if i need|if we need|if needed|if i have to|if we have to|"
             "can i call|can we call|do i call|do we call|should i call|should we call|"
             "number for|from the kiosk",
     0, 1, NULL, 0, 0},
    {.slug = EM_FIRE,
     .name = "extinguisher",
     .any = "fire extinguisher*|extinguisher*",
     .near_not = EM_ASK "|every bay|each bay|inspection|inspected|expired|training|located",
     .vwin = -6,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "gas-sensed-2",
     .any = "gas|gaz",
     .with = "smell*|smelt|reek*|stink*|odor|odour|whiff|hissing|leak*",
     .win = 3,
     .near_not = "station|stations|price*|tank|bill|mileage|money|pedal|gas up|cheap|card",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "armed-object",
     .any = "with a bat|with a hammer|with a crowbar|with an axe|with a club|with a golf club|"
            "with a pipe|with a bottle|with a stick|has a bat|has a hammer|holding a bat|"
            "holding a hammer|swinging a bat|swinging a hammer|avec un baton|avec un marteau",
     .with = "smashing|smash*|threaten*|swing*|hitting|attacking|breaking|chasing|coming at|"
             "going after|waving|man|guy|someone|somebody|he|stranger|menace|frappe",
     .win = 6,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "sound-and-light",
     .any = "whine|whining|whooping|honking|racket|noise|tone|tones|beep*|siren*|horn|horns|"
            "wail*|shriek*|screech*|blaring|ringing|buzzing|alarm*|bells|klaxon",
     .with = "flashing|blinking|pulsing|strobing|strobe*|flash*|lights|light",
     .win = 12,
     .near_not = "keypad|lock|reader|scanner|little box|goes beep|phone|car|truck|game|sim|"
                 "music|song|tv|speaker volume|microwave|oven|"
                 "door alarm|door chime|battery|chirp*|projector|pc|computer|screen|kiosk|"
                 "flashes green|flashing green|flashes red|flashing red|green light|red light|"
                 "unlock|unlocks|door|tapping|tap",
     .vwin = 6,
     .not = EM_JOKE "|" EM_HYPO "|test|testing|just a drill|only a drill|its a drill|"
                    "drill today|drill tonight|drill tomorrow|scheduled drill|scheduled",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "evacuate-voice",
     .any = "voice saying|voice telling|voice says|announcement|saying leave|saying evacuate|"
            "telling us to leave|telling everyone to leave|says to leave|says evacuate",
     .with = "leave|evacuat*|exit|get out|building",
     .win = 8,
     .not = EM_JOKE "|" EM_HYPO "|test|testing|drill|scheduled",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "siren-inside",
     .any = "siren|sirens|alarm|alarms|horn",
     .with = "inside|in here|really loud|so loud|super loud|cant hear|deafening|everywhere|"
             "whole building|whole place",
     .win = 6,
     .near_not = "isnt|not|wasnt|quieter|less|outside|street|parking|phone|car|truck|ambulance|"
                 "police|fire truck*|"
                 "door alarm|battery|chirp*|clock|music|tv|game|sim",
     .vwin = 6,
     .not = EM_JOKE "|" EM_HYPO "|test|testing|drill|scheduled",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "typo-fire",
     .any = "smoek|smok|smokin|smokes coming|smoking coming|burnin|burining|buring|"
            "flams|flamez|fume partout",
     .near_not = "cigar*|vape*|weed|break|outside|patio|area|allowed",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_MEDICAL,
     .name = "typo-medical",
     .any = "collapsd|colapsed|collasped|collapesd|colapsd|breathin|breating|breathng|"
            "unconcious|unconsious|unconscous|bleedin|bleding|seizur|siezure|siezing|"
            "faintd|fanted|passd out|pased out",
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 0},
    {.slug = EM_SECURITY,
     .name = "hit-person",
     .any = "hit his|hit a kid|hit a child|hit a woman|hit a girl|hit someone|hit somebody",
     .near_not = "head|hed|face|knee|knees|elbow|leg|legs|arm|hand|foot|toe|shin|back|chest|"
                 "nose|eye|mouth|ball|balls|shot|shots|drive|drives|tee|driver|putt|club|"
                 "ceiling|wall|target|screen",
     .vwin = 2,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "hitting-people",
     .any = "hitting people|hitting someone with|hit someone with|hitting everyone|"
            "swinging at people|attacking people|hit people|hits people|beating people",
     .near_not = "ball|balls|shot|shots|drive|drives|tee",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "rummaging",
     .any = "going through|rummaging|digging through|looking through|going thru",
     .with = "bag|bags|purse|purses|wallet|jacket|jackets|stuff|things|locker|coats|pockets|"
             "drawer|drawers|register|till|cash|desk|office",
     .win = 6,
     .also = "not with us|dont know|stranger|someone|somebody|some guy|a guy|a man|a woman|"
             "some man|some woman|he|she",
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|lost and found|i was|we were",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "crackling",
     .any = "crackling|crackles|crackle|sizzling|sizzles|buzzing and popping|popping sounds",
     .with = "wall|walls|panel|ceiling|outlet|socket|behind|wire|wires|wiring|smoke|smell|"
             "burning|orange|glow*|light|fixture|box|plug",
     .win = 6,
     .near_not = "speaker|speakers|audio|sound system|music|mic|bacon|pan|grill|fire pit",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "vandal",
     .any = "kicking my car|kicking our car|smashing my car|smashing our car|keying my car|"
            "keying our car|keyed my car|vandaliz*|vandalis*|smashing cars|breaking windows|"
            "breaking car windows|smashing car windows|breaking into cars|"
            "kicking the car|smashing windows|slashing tires|slashed my tires",
     .not = EM_JOKE "|" EM_HYPO "|last week|last month|yesterday|ago|insurance",
     .neg = 1},
    /* Someone breaking the building's glass or doors, named by the act
     * ("smashing the front window", "bashing the glass door"). */
    {.slug = EM_SECURITY,
     .name = "smashing",
     .any = "smashing|smashed|smash|shattering|shattered|bashing|bashed|breaking|broke|"
            "kicking|kicked|throwing rocks|throwing stones|throwing a rock|hammering|busting",
     .with = "window|windows|windshield|glass door|glass doors|the glass|front door|back door|"
             "side door|the door|the doors|storefront",
     .also = EM_PERSON,
     .win = 4,
     .near_not = "of|water|beer|wine|drink|pint|cup|ball|balls|shot|shots|screen|phone|"
                 "record|blinds|handle|code|lock screen",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|last month|yesterday|ago|insurance|fixed|repair*",
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "fr-entrer",
     .any = "essaie d entrer|essaye d entrer|essaient d entrer|essayent d entrer|"
            "tente d entrer|tentent d entrer|veut entrer de force|rentrer de force",
     .with = "quelqu|quelqu un|homme|gars|inconnu|inconnus|personne|il|ils|monsieur",
     .win = 5,
     .near_not = "code|je|j|on|nous|reservation|application|app|cle|carte",
     .vwin = 5,
     .not = EM_JOKE "|mdr|" EM_HYPO,
     .neg = 1},
    /* A door being forced: whoever hears it may say "on" ("on l'entend"). */
    {.slug = EM_SECURITY,
     .name = "fr-defoncer",
     .any = "defoncer la porte|defonce la porte|defoncent la porte|enfoncer la porte|"
            "enfonce la porte|enfoncent la porte|fesse sur la porte|fesser sur la porte|"
            "fesse dans la porte|forcer la serrure|force la serrure|forcent la serrure",
     .with = "quelqu|quelqu un|homme|gars|inconnu|inconnus|personne|il|ils|monsieur|"
             "en train|entend|vite|police",
     .win = 8,
     .near_not = "code|je|j|nous|reservation|application|app|cle|carte|barre|barres",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO,
     .neg = 1},
    /* An alarm told by what one hears and sees, in French. */
    {.slug = EM_FIRE,
     .name = "fr-sonne",
     .any = "ca sonne|sonne partout|ca sonne partout|sirene|sirenes|ca hurle|ca crie partout|"
            "cloche|cloches|sonnerie|bruit d enfer|arrete pas de sonner|sonne sans arret",
     .with = "lumieres|lumiere|flash*|clignot*|strobe*|stroboscope*|batisse|edifice|sortir|"
             "sort tu|evacuer",
     .win = 12,
     .near_not = "telephone|cellulaire|cell|auto|char|voiture|jeu|ecran|musique|porte|"
                 "sonnette|reveil",
     .vwin = 6,
     .not = EM_JOKE "|mdr|" EM_HYPO "|test|exercice",
     .neg = 1},
    /* French chest pain in any wording: "une douleur dans la poitrine",
     * "la poitrine lui serre" */
    {.slug = EM_MEDICAL,
     .name = "fr-poitrine",
     .any = "poitrine",
     .with = "douleur|douleurs|mal|serre|serree|serrement|pression|brule|elance|point|"
             "crampe|oppression|fait mal",
     .win = 4,
     .not = EM_JOKE "|mdr|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "thieves",
     .any = "thieves|thief|robbers|burglars|looters|looting",
     .with = "are|is|right now|loading|taking|carrying|grabbing|stealing|running|inside|here",
     .win = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|last month|yesterday|ago|movie|game",
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "security-shout",
     .any = "robbery|intruder|intruders|burglar|burglars|thief|thieves|gun|knife|police|"
            "cops|fight|voleur|vol|bagarre",
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1,
     .shout = 3},
    {.slug = EM_MEDICAL,
     .name = "aed",
     .any = "cpr|defibrillator|defib|aed|aeds",
     .near_not = EM_ASK "|trained|training|certified|course|class|checked|inspected|"
                        "maintained|serviced|tested|expired|regularly|curious|located|"
                        "is the|are the",
     .vwin = -6,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},

    /* ---- security ---- */
    {EM_SECURITY, "weapon",
     "gun|guns|handgun|pistol|firearm|rifle|knife|knives|machete|weapon|weapons|"
     "armed|stabbed|stabbing|shooter|gunshot*|shots fired|bomb threat|explosive|"
     "shooting outside|someone is shooting|someones shooting|is shooting at|shooting at us|"
     "shooting at people|started shooting|gunfire|heard shots|"
     "explosives|pulled a|waving a|brandishing",
     NULL, 0,
     "radar|speed gun|glue gun|nail gun|water gun|nerf|top gun|son of a gun|range|ranges|"
     "gun show|gun store|gun shop|gun club|licence|license|"
     "shotgun start|butter knife|knife and fork|armed forces|forces|military|"
     "veteran*|discount|pulled a muscle|pulled a hamstring|pulled a shot|"
     "pulled a drive|pulled a putt|waving a flag|armed with a putter|vibes|vibe|energy|"
     "explosive drive|explosive swing|explosive game|explosive tonight|good way",
     3,
     EM_JOKE "|" EM_HYPO "|allowed|permitted|policy|can i bring|can we bring|"
             "no weapons|guns n roses|play|playlist|song|songs|music|album|band|listen|"
             "mack the knife|buy a|purchase|reminder",
     1, 0, NULL, 0, 0},
    {EM_SECURITY, "violence",
     "shoved|shoving|punched|punching|attacked|attacking|assaulted|assault|"
     "assaulting|beating up|beat up|beating him|beating her|jumped him|jumped her|"
     "jumped us|jumped me|hitting him|hitting her|hitting me|hitting us|hit him|"
     "hit her|hit me|kicked him|kicked her|kicked me|headbutt*|choking him|"
     "hitting a|hitting someone|hitting somebody|hitting people|hitting my|hitting his|"
     "choking her|choking another|choking someone|choking somebody|choking a guy|"
     "choking the guy|choking my|strangl*|brawl|fistfight|fist fight|fight|fighting|fights|"
     "throwing punches|threw a punch|swung at|swinging at|spat on|spit on|"
     "grabbed her|grabbed him|grabbed me|groped|groping|slapped|elbowed",
     NULL, 0,
     EM_GOLF "|trackman|computer|pc|machine|printer|projector|app|"
             "fight the|fighting the|fighting a|fight a|fight my|fighting my|fight it|fight this|"
             "fight that|fighting it|ticket|tickets|fine|charge|bill|"
             "fight through|fight off|beat him at|beat her at|beat me at|beat us at|"
             "beat him by|beat her by|beat me by|beat us by|hit me up|hit me with|hit me back|"
             "hit her up|hit him up|over who|about who|who pays|the bill|sim|screen|"
             "punched in|punch in|pin|code|number|numbers|keypad|button|buttons|"
             "fighting about|fight about|fights about|keep fighting|always fighting|"
             "fighting over|argument|arguing|argue|fight of the year|nhl|ufc|mma|boxing|hockey|"
             "on the ice|on tv|fight night|greens|aerated|aeration|sanded",
     3, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_SECURITY, "threat",
     "threatening|threatened|threatens|threat|threats|going to kill|gonna kill|"
     "hell hurt|hell kill|hell shoot|hell stab|hell beat|shell hurt|shell kill|theyll hurt|"
     "theyll kill|hurt someone|hurt somebody|hurt people|kill someone|kill people|"
     "kill everyone|hurt everyone|shoot everyone|shoot someone|"
     "will kill|going to hurt|gonna hurt|going to beat|gonna beat|going to stab|"
     "gonna stab|going to shoot|gonna shoot|mess us up|mess you up|mess him up|"
     "mess me up|mess her up|mess them up|beat us up|beat you up|beat me up|"
     "beat him up|kill us|kill me|kill you|kill him|kill her|hurt us|hurt me|"
     "come in and get us|coming for us|coming after us",
     NULL, 0,
     "wife|husband|boss|mom|dad|mum|girlfriend|boyfriend|coach|teacher|"
     "trackman|sim|slice|hook|shank|swing|putter|driver|putts|putting|"
     "this course|this hole|this game|this putt|my game|my score|scorecard|"
     "handicap|my back|back|legs|feet|knees|"
     "threat level|triple threat|double threat|weather|rain|storm|storms|snow|"
     "hurt me to|hurts me|get you a|get you in|get you the|get you booked|"
     "get you set|get you started|get you sorted|get you going|get you on|"
     /* threatened with a bill or a review, not with harm */
     "chargeback|chargebacks|charge back|dispute|lawsuit|legal action|small claims|bbb|yelp|"
     "google review|bad review|credit card|biggest threat|competitor|competitors|competition|"
     "positioned|market|market share|business",
     4,
     EM_JOKE "|" EM_HYPO "|im going to kill|im gonna kill|ill kill|i will kill|"
             "i could kill|im going to murder|i would kill|id kill|imma kill|"
             "threatening to quit|threatening to leave|"
             "threatening to cancel|threatening to sue|threatening to complain|"
             "threatening to post|threatening to write|threatening to review|"
             "threatening to report|threatening to stop|threatening to give|"
             "threatening to take|threatening to switch|threatened to quit|"
             "threatened to leave|threatened to cancel|threatened to sue|"
             "threatened to complain|threatened to switch|threatens to quit|"
             "threatens to cancel",
     1, 0, NULL, 0, 0},
    {EM_SECURITY, "intruder",
     "broke in|break in|breaking in|broken into|breakin|burglar*|intruder*|"
     "breaking into|break into|kick the door|kicking the door|kick in the door|"
     "kick down the door|kicking down the door|force the front door|forcing the front door|"
     "force the back door|forcing the back door|force the side door|"
     "trespass*|snuck in|sneaked in|slipped in|followed us in|followed me in|"
     "followed her in|tailgated|forced the door|forced open|forced his way|"
     "forced their way|force the door|forcing the door|force his way|"
     "forcing his way|force their way|force it open|forcing it open|force open|"
     "forcing open|trying to break|kicked in the door|kicked the door in|prying|pried|"
     "someone is inside|somebody is inside|someone inside|somebody inside|"
     "someones in|somebodys in|someones inside|somebodys inside|someone in here|"
     "theres someone in|there is someone in|locked in a bay|were hiding|hiding in|"
     "broke the lock|breaking the lock|picking the lock|picked the lock|jimmy*|jimmied|"
     "cut the lock|cutting the lock|cut the chain|pull the door off|pulling the door off|"
     "off the hinges|ripping the door|"
     "pried the door|prying the door|busted the lock|got in after closing|"
     "in after closing|walking around inside|"
     "nobody should be|no one should be|shouldnt be in here|shouldnt be here|"
     "not supposed to be in|not supposed to be here|"
     "someone in the building|stranger in|strangers in",
     NULL, 0,
     "my new|new|glove|gloves|shoes|clubs|driver|wedge|putter|irons|the new|"
     "slipped in the|slipped in a|slipped in some|slipped in water|puddle|"
     "break in the clouds|break in the rain|break in between|broke in half|"
     "broke in two|break in half|broke in pieces",
     3, EM_JOKE "|" EM_HYPO "|inside the|inside joke", 1, 0, NULL, 0, 0},
    {EM_SECURITY, "wont-leave",
     "wont leave|refuses to leave|refusing to leave|will not leave|wont go away|"
     "wont get out|keeps following|following me|following us|following her|"
     "stalking|harass*|creep|creepy|acting strange|acting weird|acting crazy|"
     "acting erratic|acting aggressive|acting aggressively|acting really strange|"
     "acting really weird|acting very strange|acting very weird|acting so weird|"
     "acting strangely|acting suspicious|acting suspiciously|aggressive|hostile|"
     "belligerent|out of control|yelling at|screaming at|shouting at|"
     "cornered|lurking|loitering|peeping|watching us|watching me",
     EM_PERSON "|stranger|drunk|lobby|door|outside|parking lot|us|me", 8,
     EM_TECH "|ball|slice|hook|fairway|putt|swing|sim|balls|club|clubs|golf|"
             "it wont|this wont|payment|charge|pending|transaction",
     3, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_SECURITY, "banging",
     "banging on|pounding on|hammering on|kicking the door|kicking the glass|"
     "smashed the window|smashed the glass|smashed the door|smashing the window|"
     "smashing the glass|broke the window|broke the glass|shattered the|"
     "throwing things|throwing stuff|trashing",
     "yelling|screaming|shouting|threat*|trying to get in|try to get in|"
     "come in|get in|wont stop|keeps|stranger|guy|man|someone|somebody|people|"
     "they|he|drunk",
     12, NULL, 0,
     EM_JOKE "|" EM_HYPO "|let us in|locked out|our booking|cant get in|we are|were|"
             "ive been|weve been|i have been|we have been|my booking",
     1, 0, NULL, 0, 0},
    /* things carried out of the place ("carrying your TV out the front door") */
    {.slug = EM_SECURITY,
     .name = "carry-out",
     .any = "carrying|carried|hauling|wheeling|lugging",
     .with = "tv|tvs|television|televisions|projector|projectors|computer|computers|pc|pcs|"
             "monitor|monitors|screen|screens|kiosk|kiosks|ipad|ipads|"
             "speaker|speakers|clubs|golf bags|trackman|launch monitor",
     .win = 4,
     .also = "out the door|out the front|out the back|out of the|out to a|out to their|"
             "to a car|to a van|to a truck|into a car|into a van|into a truck|outside",
     .near_not = "help|helping|delivery|deliver|installer|installers|technician|repair|"
                 "we carried|i carried|carried it in|carrying it in",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|allowed|can we carry|can i carry|"
                    "may we carry|may i carry",
     .neg = 1},
    {EM_SECURITY, "theft",
     "stealing|steal|steals|thief|thieves|robbing|robbery|robbed|shoplift*|"
     "pickpocket*|took off with|ran off with|ran out with|walked off with|"
     "walked out with|made off with|grabbed|snatched|swiped|stole|stolen|"
     "taking our|taking my|took our|took my|broke into|grabbing|snatching|swiping|"
     "running off with|running out with|walking off with|walking out with|making off with|"
     "walking out right now with|walking out now with|running out right now with|"
     "walking out the door with|heading out the door with|heading out with our|"
     "taking off with|run off with|run out with|loading up|carrying out|pocketing|"
     "pulling the tv off|ripping the tv off|pulling the tv down|tearing the tv off|"
     "carrying the tv out|carrying the tvs out|carrying the projector out|"
     "carrying the monitor out|carrying the computer out|carrying the pc out|"
     "carrying it out to a|carrying them out to a|"
     "loading our|loading my|loading them|loading it into|loading everything|"
     "out the door with|leaving with our|leaving with the|"
     "loading the|loading up the|loading a|loading all|dont work here|doesnt work here|"
     "dont work for you|doesnt work for you",
     "bag|bags|clubs|club|purse|wallet|phone|laptop|backpack|jacket|cash|register|"
     "tv|equipment|stuff|things|items|keys|it|them|everything|car|putter|putters|driver|"
     "drivers|irons|wedges|ipad|tablet|tvs|screen|projector|golf bag|golf bags|"
     "trackman|unit|units|rental|rentals|sets|set|monitor|launch monitor|computer|pc|"
     "speaker|speakers|simulator|sim|mat|mats|net|van|truck",
     10,
     "steal a|steal of|a steal|steal my heart|stole the show|steal the show|"
     "took our bay|took my bay|took the bay|took a bay|stole our bay|stole my bay|"
     "stole the bay|grabbed our bay|grabbed my bay|grabbed the bay|stealing our bay|"
     "stealing my bay|stealing the bay|taking our bay|taking my bay|taking the bay|"
     /* a booking taken is no theft; "came in without a booking" may be one */
     "my booking|our booking|the booking|their booking|his booking|her booking|slot|spot|"
     "tee time|reservation|table|parking spot|"
     "stealing the show|grabbed a bite|grabbed food|grabbed lunch|grabbed dinner|"
     "grabbed a drink|grabbed a beer|grabbed a bay|grabbed a spot|grabbed some|"
     "charged|charge|refund|double|twice|receipt|credit|points|strokes|"
     "i grabbed|we grabbed|i took|we took|i just grabbed|we just grabbed|"
     "grabbed the wrong|steal a bay|steal a tee|grabbing a bite|grabbing food|"
     "grabbing lunch|grabbing dinner|grabbing a drink|grabbing a beer|grabbing a bay|"
     "grabbing a spot|grabbing some|im grabbing|were grabbing|we are grabbing|"
     "i am grabbing|ill grab|grabbing the wrong",
     4,
     EM_JOKE "|" EM_HYPO "|last week|last month|last year|yesterday|last night|ago|"
             "lost and found|lost & found|did anyone find|has anyone found|card|cards|"
             "account|details|app|transaction*|withdrawal|money from|block|freeze|new one|"
             "replacement|identity|information|pin|vacation|vacationing|abroad|mugged|"
             "report|lost or stolen|or stolen|if my",
     1, 0,
     "right now|just|running|ran|heading|out the door|leaving|left with|took off|"
     "people|two guys|two people|dont work here|doesnt work here|into a van|into a truck|"
     "into their|from bay|from the bay|from our bay|from the lobby|from the front|in the lobby|"
     "out front|still here|still in|from the counter|the door|out of the bay|"
     "in bay|from under|while we|while i|caught him|caught her|caught someone|"
     "someone|somebody|a guy|a man|a woman|some guy|some kid|some kids|stranger|"
     "the parking lot|our car|my car|are running|is running|are grabbing|is grabbing|"
     "are taking|is taking|are loading|is loading|are walking|is walking|are stealing|"
     "is stealing|are leaving|is leaving|someones|somebodys|hes|shes|theyre|out of bay",
     0, 0},
    {EM_SECURITY, "robbery",
     "robbing the|robbing us|is robbing|are robbing|being robbed|getting robbed|"
     "robbery in progress|armed robbery|stickup|stick up|held up at gunpoint|"
     "held us up|mugging|being mugged|getting mugged|someone robbed|somebody robbed|"
     "guy robbed|man robbed",
     NULL, 0, NULL, 0,
     EM_JOKE "|" EM_HYPO "|highway robbery|daylight robbery|price|prices|fee|fees|"
             "charge|charges|charging|rates|rate|per hour|robbing me|robbing us blind|"
             "yesterday|last week|last night|ago",
     1, 0, NULL, 0, 0},
    {EM_SECURITY, "police",
     "call the police|called the police|calling the police|call the cops|"
     "called the cops|calling the cops|police|cops|need security|send security|"
     "get security|call security",
     NULL, 0,
     "police station|police officer discount|police discount|first responder*|"
     "police report|reported it|report it|reported to the police|with the police",
     3, EM_JOKE "|" EM_HYPO, 1, 1, NULL, 0, 0},

    /* ---- water ---- */
    {EM_WATER, "water-leak", "water",
     "dripping|drips|drip|dripped|leak*|pooling|pool|pools|puddle*|flooding|flooded|"
     "flood|floods|pouring|pours|gushing|spraying|sprays|spurting|squirting|seeping|"
     "seeps|running out|running down|running across|running everywhere|running under|"
     "running into|coming in|coming through|coming from|coming down|coming out|"
     "coming up|everywhere|all over the floor|on the floor|ceiling|soaked|soaking|"
     "overflow*|rising|burst|bursting|damage|through the wall|under the door|"
     "under the wall|inches|standing|wet|spreading|streaming|trickling",
     8,
     "umbrella*|boots|snow|rain jacket|from our|tracked in|"
     "bottle|bottles|drink*|glass|cup|fountain|hazard|hazards|course|hole|ball|balls|"
     "shot|shots|lake|pond|creek|river|green|fairway|tee|spilled|spill|spilt|bring|"
     "buy|sell|free water|cold water|water cooler|tap water|sparkling|pressure|a little|"
     "a bit of|little bit|splashed|splash",
     4,
     EM_JOKE "|" EM_HYPO "|water hazard|into the water|in the water|over the water|"
             "no water",
     1, 0, NULL, 0, 0},
    {EM_WATER, "leak", "leak|leaking|leaks|leaky|leaked",
     "ceiling|roof|pipe|pipes|toilet|toilets|sink|water|wall|walls|bathroom|washroom|"
     "restroom|floor|tap|faucet|heater|boiler|ac|air conditioner|unit|light|fixture|"
     "radiator|sprinkler|window|vent|above|from the|everywhere|urinal",
     8,
     /* what a customer carries leaks too: a spill, not a leak */
     "bottle|bottles|cup|cups|mug|mugs|thermos|flask|drink|drinks|container|tumbler|"
     "lunch bag|cooler bag|pen|pens|ice pack|juice box|juicebox|juice|sippy cup|box",
     -3,
     EM_JOKE "|" EM_HYPO "|gas|data|memory|info|password|email|leaked my|news|"
             "leaked the",
     1, 0, NULL, 0, 0},
    {EM_WATER, "burst-pipe", "burst|bursted|broken|broke|busted|exploded|cracked|split|blew",
     "pipe|pipes|water main|main|sprinkler|sprinklers|hose|water line|waterline|"
     "water heater|hot water tank|radiator",
     4, "think tank|fish tank|main menu|main screen|main page|main course", 3, EM_JOKE "|" EM_HYPO,
     1, 0, NULL, 0, 0},
    {EM_WATER, "overflow", "toilet|toilets|urinal|sink|sinks|drain|drains|sewer|sewage",
     "overflow*|flooding|flooded|flood|backing up|backed up|backs up|spilling|"
     "coming up|coming out|everywhere|on the floor|"
     "gushing|spewing|water everywhere|all over the floor|pouring|leak*|spraying",
     8, NULL, 0, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_WATER, "flood",
     "flood|flooding|flooded|floods|underwater|under water|standing water|"
     "inches of water|inch of water",
     "floor|bay|bathroom|washroom|restroom|hallway|hall|lobby|basement|room|building|"
     "place|everywhere|water|entrance|carpet|turf|inside|in here|kitchen|office|"
     "ceiling|wall|door",
     8,
     "flooded with|flood of|flooding with|flooding in with|inbox|emails|work|"
     "requests|messages|calls|bookings|orders|texts|notifications|memories|tears|"
     "course|hole|green|fairway",
     4, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_WATER, "soaked-floor", "soaked|soaking|drenched|sopping|saturated|waterlogged",
     "floor|carpet|turf|mat|ceiling|wall|walls|tiles|tile|rug|hallway|ceiling tile*", 6,
     "sweat|sweaty|rain|raining|clothes|shirt|jacket|shoes|i am|im|we are|were", 3,
     EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_WATER, "ceiling-leak", "ceiling|roof|light fixture",
     "dripping|drip|drips|leak*|water|stain spreading|caving|caved|sagging|bulging|"
     "collapsing|collapsed|falling in|fell in|coming down",
     6,
     "ceiling fan|ceiling height|how high|high ceiling|ceiling clearance|"
     "ceiling mounted|projector mount|hit the ceiling|hits the ceiling|"
     "hitting the ceiling|ball|balls|shot",
     4, EM_JOKE "|" EM_HYPO, 1, 0, NULL, 0, 0},
    {EM_WATER, "sprinkler", "sprinkler|sprinklers",
     "going off|went off|go off|on|spraying|activated|burst|broke|leak*|wont stop|"
     "everywhere|water",
     6, NULL, 0, EM_JOKE "|" EM_HYPO "|inspection|test|testing", 1, 0, NULL, 0, 0},

    /* ---- power ---- */
    {EM_POWER, "power-out",
     "power outage|power is out|power went out|powers out|power out|power cut|"
     "power failure|power is down|power went down|power died|power is gone|"
     "power just went|power just cut|lost power|losing power|lose power|no power|"
     "without power|power went off|power is off|power shut off|power has gone|"
     "power off|power keeps cutting|powers gone|power gone|powers been cut|power cut out|"
     "blackout|black out|brownout|electricity is out|"
     "electricity went out|no electricity|lost electricity|electricity out|"
     "electricity is off|electricity went off|outage",
     NULL, 0,
     "projector|pc|computer|screen|tv|tvs|monitor|sim|simulator|trackman|speaker|"
     "speakers|kiosk|phone|laptop|cord|cable|button|charger|battery|internet|wifi|"
     "wi fi|network|website|site|app|server|swing|drive|drives|shot|shots|ball|"
     "golf|hitting|power fade|power draw|power hitter|more power|power in my|"
     "power my|outlet|socket|plug|power strip|power bar|ipad|tablet|radar|unit|"
     "back nine|front nine|round|score|hole|holes|dates|date|days|period|"
     "promo|promotion|deal|discount|sale|"
     /* a bank's, a card's or a phone company's outage is theirs */
     "visa|mastercard|amex|debit|credit card|interac|bank|banks|td|rbc|bmo|cibc|"
     "scotiabank|desjardins|paypal|rogers|bell|telus|videotron|eastlink|fido|koodo|"
     "cell|cellular|teams|outlook|gmail|email|banque|caisse",
     5,
     EM_JOKE "|" EM_HYPO "|only the projector|only the pc|only the computer|"
             "only the screen|only the tv|only the tvs|only the sim|only the monitor|"
             "only the side|only one|only our|only my|only this|still on|still working|"
             "still have power|still has power|lights are on|lights are still|scheduled|"
             "planned|next week|backup plan",
     1, 0, NULL, 0, 0},
    {EM_POWER, "all-dark",
     "everything|the whole place|whole place|whole building|entire building|"
     "entire place|the building|whole venue|whole facility|whole room|entire room|"
     "all the lights|all lights|all of the lights|every light|the lights|lights|"
     "all the bays|all bays|all * bays|all of the bays|"
     "every bay|all the screens|all screens|all of it|the whole bay|whole bay",
     "went black|went dark|gone dark|is dark|are dark|are out|is out|went out|"
     "cut out|cuts out|shut off|shut down|turned off|switched off|went off|"
     "just died|died|dead|pitch black|pitch dark|black|dark|out at once|off at once|"
     "at the same moment|at the same time|nothing is coming back|nothing came back|"
     "not coming back on|wont come back on|wont turn back on|flickered and|"
     "lost power|no power|went out at",
     8,
     /* "trackman is dead, no lights on it": the device's own lights */
     "on it|on the unit|on the box|on the trackman|on the screen|on the pc|on the projector|"
     "on the kiosk|on the monitor|on the sim|on the tv",
     4,
     EM_HYPO "|only the projector|only the pc|only the computer|only the screen|"
             "only the tv|only the tvs|only the sim|only the monitor|only the side|only one|"
             "only our|only my|only this|still on|still working|still have power|"
             /* one bay, one lamp: "the lights went out in bay 1 only" */
             "bay * only|bay only|only in bay|only bay|just bay|just in bay|just our bay|"
             "one of the lights|one of the ceiling|one light|one of the lamps|the lamp|"
             "lights are on|lights are still|can you turn|could you turn|can we turn|"
             "can i turn|how do i turn|how do we turn|how to turn|turn off the lights|"
             "turn the lights|switch off the lights|dim the lights|dim|dimmer|too bright|"
             "too dark|darker|brightness|dark mode|is it dark|dark outside|get dark|"
             "gets dark|dark out|after dark|dark by|sunset|night mode|everything else|"
             "everything is dead quiet|dead quiet|dead silent|everything is fine|"
             "lights out golf|lights out at|are fine|are ok|are okay|are working|"
             "work fine|working fine|seem fine|look fine|still on",
     0, 0, NULL, 0, 0},
    {EM_POWER, "in-the-dark",
     "sitting in the dark|standing in the dark|all in the dark|were in the dark|"
     "we are in the dark|completely dark|totally dark|pitch black|pitch dark|"
     "stuck in the dark",
     NULL, 0, EM_TECH "|course|night golf|glow", 4,
     EM_JOKE "|" EM_HYPO "|in the dark about|kept in the dark|left in the dark|"
             "keep me in the dark|shot in the dark",
     0, 0, NULL, 0, 0},
    {EM_POWER, "breaker", "breaker|breakers|fuse|fuses|circuit breaker*",
     "tripped|trip|trips|blew|blown|popped|flipped|keeps tripping", 4, NULL, 0, EM_HYPO, 1, 0, NULL,
     0, 0},
    {EM_POWER, "exit-sign",
     "exit sign|exit signs|emergency lights|emergency lighting|emergency light",
     "only|lit|came on|are on|is on|turned on|kicked on|all that", 6, NULL, 0,
     EM_HYPO "|broken|burnt out|burned out|not working|replace", 0, 0, NULL, 0, 0},

    /* ---- what people see, hear and smell, and short or shouted reports ---- */
    {.slug = EM_FIRE,
     .name = "alarm-heard",
     .any = "siren|sirens|strobe|strobes|strobe "
            "light*|beeping|beep|beeps|shrieking|screeching|alarm|alarms|"
            "alarm bells|alarm bell|bells|"
            "wailing|blaring|horn|piercing|ear splitting|earsplitting|deafening|howling",
     .with = "flashing|blinking|flash*|strobe*|lights|ceiling|hallway|hall|exit|"
             "building|evacuat*|leave|leaving|get out|everywhere|nonstop|non stop|"
             "wont stop|wont quit|wont shut|keeps going|detector|speakers|alarm|alarms|"
             "box on the|on the wall|red light|whole place|throughout",
     .win = 10,
     .near_not = "keypad|lock|reader|scanner|little box|goes beep|door alarm|door chime|when we "
                 "open|when i open|when you open|opening the "
                 "door|open the door|"
                 "phone|car|cars|truck|microwave|oven|game|sim|music|song|songs|speaker "
                 "volume|chirp*|battery|batteries|every minute|every few|now and then|"
                 "once in a while|tv|ambulance|police|fire truck*|outside|street|parking|"
                 "flashes green|flashing green|flashes red|flashing red|green light|unlock|"
                 "unlocks|tapping|link",
     .vwin = 8,
     .not = EM_JOKE "|" EM_HYPO "|test|testing|drill|scheduled",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "detector",
     .any = "detector|detectors|fire alarm*|smoke alarm*|ceiling alarm|alarm",
     .with = "going off|went off|goes off|sounding|ringing|"
             "screaming|shrieking|screeching|beeping like crazy|going crazy|freaking out|"
             "nonstop|non stop|wont quit|wont shut up|keeps going off|going nuts|loud noise|"
             "noise everywhere|alarm noise|people are leaving|everyone is leaving|evacuat*",
     .win = 6,
     .near_not = "phone|clock|car|door alarm|chirp*|battery|batteries|carbon monoxide|co",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO "|test|testing|scheduled",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "gas-sensed",
     .any = "rotten egg*|sulfur|sulphur|propane|natural gas|gas odour|gas odor|gassy|"
            "odeur de gaz|sent le gaz|sens le gaz|fuite de gaz|monoxyde",
     .near_not = "station|price*|tank refill|bbq tank",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "burning-thing",
     .any = "burning",
     .with = "carpet|rug|wall|walls|trash|garbage|bin|can|curtain*|couch|chair|table|desk|"
             "pc|computer|tower|cabinet|outlet|wire|wires|building|kitchen|car|paper|"
             "fridge|heater|box|panel|something|stuff|bathroom|washroom|ceiling|roof",
     .win = 3,
     .near_not = EM_GOLF "|calories|sensation|feet|eyes|throat|legs|muscles|money",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO "|burning question",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "fire-shout",
     .any = "fire|fires|feu|smoke|smoking|fumee|gas|gaz",
     .near_not = "pit|sale|up|drill|exit|exits|station|department|dept|emoji|alarm*|price|"
                 "prices|card|tank|"
                 "extinguisher*|works|work|place|is|its|so|thats|straight|pure|that|"
                 "sign|signs|door|doors|me|him|her|them|you|break|area|free|shop|for|pay|paid|"
                 "fill",
     .vwin = 2,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1,
     .shout = 4},
    {.slug = EM_WATER,
     .name = "flood-shout",
     .any = "flood|flooding|flooded|inondation",
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1,
     .shout = 4},
    {.slug = EM_MEDICAL,
     .name = "emergency-shout",
     .any = "emergency|emergencies|sos|mayday|urgence",
     .near_not = "exit|exits|door|doors|lights|lighting|contact|number|procedure|plan|kit",
     .vwin = 2,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1,
     .shout = 4},
    {.slug = EM_MEDICAL,
     .name = "shock",
     .any = "going into shock|in shock|anaphyla*|epipen|epi pen|epinephrine|"
            "allergic reaction|throat is closing|throat closing|throat is swelling|"
            "face is swelling|swelling up|cant swallow|hurt bad|hurt real bad|"
            "hurt really bad|hurt very bad|throwing up blood|coughing up blood|"
            "vomiting blood",
     .near_not = "price*|bill|fee|charge*|lost badly|played badly|badly need|want badly|"
                 "badly wants|badly designed|badly lit|badly",
     .vwin = 0,
     .not = EM_JOKE "|" EM_HYPO "|" EM_ASK "|bringing my|bringing her|bringing his|store my|"
                    "keep my|fridge on site|a fridge",
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "violent",
     .any = "violent|violence|brawling|brawled|swung a|swinging a|swung his|swinging his|"
            "throwing chairs|throwing bottles|throwing glasses|threw a chair|threw a bottle|"
            "jumped my|jumped a|jumped some|attacking|kicking him|kicking her|beating",
     .with = "at|him|her|me|us|them|people|someone|guy|man|friend|buddy|staff|getting|is|"
             "are|outside|lobby|bar|bay|parking|lot",
     .win = 4,
     .near_not = "ok|okay|safe|allowed|pregnant|enceinte|"
                 "storm|video|game|games|movie|movies|film|show|swing|ball|balls|club at the "
                 "ball|at the ball|drive|shot|beating the|beating my|beating our|heart",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "climbed-in",
     .any = "climbed in|climbing in|climbin in|climbed through|climbing through|climbing thru|"
            "climbin thru|climbed thru|crawled in|crawling in|"
            "came in through the window|coming in through the window|climbing over the fence|"
            "got in through the window|getting in through the window|hiding in|were hiding|we are "
            "hiding",
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},

    {.slug = EM_MEDICAL,
     .name = "not-moving",
     .any = "isnt moving|not moving|stopped moving|wont move|cant move|doesnt move|"
            "hasnt moved|havent seen * move|hasnt budged|hasnt stirred|not stirring|"
            "not responding|isnt responding|stopped responding|wont respond|unresponsive|"
            "cut * open|cut * * open|sliced open|deep cut|badly cut|cut deep",
     .with = EM_PERSON "|hand|arm|leg|head|finger|face",
     .win = 8,
     .near_not = EM_TECH "|ball|balls|traffic|line|queue|car|cars|booking|payment|support|"
                         "email|emails|text|texts|the bay|door",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "smashed-in",
     .any = "smashed|shattered|got smashed|was smashed|been smashed|smashed in|smashed open|"
            "broken|kicked in",
     .with = "door|window|glass|entrance|windows|doors",
     .win = 3,
     .also = "someone|somebody|guy|man|men|people|came in|got in|inside|they|intruder|"
             "running|ran|climbing|climbed|coming in",
     .near_not = "screen|phone|ball|tee|drive|shot|record|toilet|seat|handle|lock|sign",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "getting-in",
     .any = "trying to get in|trying to open the locked|trying the door|trying the handle|"
            "trying the doors|trying doors|checking the doors|looking in the windows|"
            "peering in|peeking in|looking into the windows|"
            "rattling the door|rattling the handle|trying to pry|trying to force",
     .with = "someone|somebody|guy|man|men|stranger|people|they|he",
     .win = 8,
     .near_not = "code|pin|app|booking|locked out|qr|key|card|cant get in|we|were|im|i",
     .vwin = 8,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},

    /* someone forcing a way in, told with a pronoun of our own after it
     * ("... right now, I can hear it") */
    {.slug = EM_SECURITY,
     .name = "prying",
     .any = "pry open|prying open|trying to pry|pry the|prying the|pry it open|prying at|"
            "with a crowbar",
     .with = "someone|somebody|guy|man|men|stranger|strangers|people|they|he|she|a person|"
             "some guy|kids",
     .win = -6,
     .near_not = "we|were|im|i|ive|weve|you|how do i|how to|help me",
     .vwin = -4,
     .not = EM_JOKE "|" EM_HYPO "|locker|stuck|jammed|lid|case|paint can",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "haze",
     .any = "haze|hazy|smog|smoggy",
     .with = "filling|filled|fills|full of|room|air|bay|hallway|lobby|eyes|sting*|cough*|"
             "breathe|breathing|thick|coming from|coming out",
     .win = 6,
     .near_not = "beer|ipa|ale|pint|drink|screen|projector|image|picture|display|video|"
                 "memory|memories|weather|morning|sky|outside|lens|ball flight|tracer",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|" EM_ASK "|fog machine|smoke machine|party",
     .neg = 1},

    /* ---- French (accents folded away by the normaliser, elisions split) ---- */
    {.slug = EM_FIRE,
     .name = "fr-feu",
     .any = "feu|incendie|incendies|flammes|flamme|fumee|pompiers|brule|brulent|brulure|"
            "ca fume|ca boucane|boucane|"
            "etincelles|etincelle|court circuit|fils electriques",
     .near_not = "arme a|armes a|feu vert|feu rouge|feu jaune|feux|de circulation|coin du|"
                 "foyer|feu de camp|"
                 "sortie|sorties|exercice|extincteur*|feu d artifice|ce soir|en feu ce|"
                 "joue|jouer|golf|coup|coups|swing|brule des calories|numero|a soir|drive|"
                 "drives|putter|putts|fer|fers|en feu a soir|mains|main|bras|jambes|pieds|"
                 "dos|epaules|gorge|yeux|cuisses|mollets|a force de",
     .vwin = 3,
     .not =
         EM_JOKE "|mdr|ptdr|" EM_HYPO "|meilleur|meilleure|malade|capote|trop bon|trop bien|genial|"
                 "birdie|birdies|eagle|eagles|d affilee|trou d un coup|coup roule|coups roules|"
                 "drive est en feu|drives sont en feu|swing est en feu|putter est en feu|"
                 "fers sont en feu|je suis en feu|chu en feu|suis en feu",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "fr-alarme",
     .any = "alarme|alarmes|detecteur|detecteurs|avertisseur",
     .with = "sonne|sonnent|incendie|feu|fumee|declenche|declenchee|hurle|retentit|"
             "sans arret|arret|partout|sortir|evacuer",
     .win = 5,
     .near_not = "cellulaire|telephone|reveil|auto|voiture|pile|piles",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO "|test|exercice",
     .neg = 1},
    {.slug = EM_FIRE,
     .name = "fr-gaz",
     .any = "gaz",
     .with = "sent|odeur|fuite|sens|senteur|pue|ca sent",
     .win = 4,
     .near_not = "station|prix|essence",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO,
     .neg = 1},
    {.slug = EM_MEDICAL,
     .name = "fr-medical",
     .any = "respire pas|respire plus|respire mal|arrive pas a respirer|misere a respirer|"
            "blesse grave|blessee grave|un blesse|une blessee|blesses graves|"
            "difficulte a respirer|de la peine a respirer|respire difficilement|manque d air|"
            "arrive plus a respirer|peut pas respirer|peut plus respirer|inconscient|"
            "inconsciente|sans connaissance|evanoui|evanouie|evanouir|perdu connaissance|"
            "effondre|effondree|malaise|crise cardiaque|arret cardiaque|douleur a la poitrine|"
            "douleurs a la poitrine|mal a la poitrine|douleur thoracique|crise d epilepsie|"
            "convulsion*|convulse|saigne|saignement|saignent|etouffe|etouffer|"
            "reaction allergique|choc anaphylactique|ambulance|ambulanciers|"
            "urgence medicale|ne bouge plus|ne bouge pas|ne reagit pas|ne reagit plus|"
            "ne repond plus|surdose|avc|fracture|gravement blesse|gravement blessee|"
            "effondrer|s effondrer|face enfle|visage enfle|levres enflent|misere a avaler|"
            "peut pas avaler|arrive pas a avaler|perdu ses eaux|perdu mes eaux|"
            "gorge serre|gorge qui serre|gorge enfle|"
            "gorge qui enfle|gorge gonfle|urticaire|choc allergique|fait une allergie|"
            "fait une reaction|epipen|"
            "casse le poignet|casse le bras|casse la jambe|casse la cheville|casse le pied|"
            "casse la main|casse le doigt|casse l epaule|casse le nez|casse la clavicule|"
            "casse une cote|casse des cotes|cassee|l os est|l os sort|os qui sort|"
            "pas a la bonne place|disloque|disloquee|deboite|deboitee|"
            "blesse gravement|il est blesse|elle est blessee|tombe sur la tete|"
            "cogne la tete|frappe a la tete|en sang|perd du sang|pete la tete|fendu la tete|"
            "fendu le front|ouvert le crane|"
            /* spoken Quebec French: "respire pu", "pisse le sang" */
            "respire pu|respire presque pu|respire presque plus|levres bleues|levres sont bleues|"
            "bleu autour des levres|bleue autour des levres|vire bleu|vire bleue|devient bleu|"
            "devient bleue|perdre connaissance|perd connaissance|tombe dans les pommes|"
            "tombee dans les pommes|tomber dans les pommes|pisse le sang|pisse du sang|"
            "saigne beaucoup|saigne en masse|plein de sang|ouvert le bras|ouvert la main|"
            "ouvert la jambe|ouvert la tete|ouvert le front|coupure profonde|"
            "pu capable de respirer|plus capable de respirer|pas capable de respirer|"
            "arrive pu a respirer|arrive pus a respirer|respire pus|"
            "capable pu de respirer|respire pas comme du monde|respire pu comme du monde|"
            "coup de chaleur|insolation|y delire|il delire|elle delire|sue pu|transpire pu|"
            "fait une crise cardiaque|fait une crise d epilepsie|se reveille pas|se reveille pu|"
            "se reveille plus|tremble par terre|"
            "convulse par terre|la bouche croche|le visage croche|parle pu pis|bave pis|"
            "il bave|elle bave|crise d asthme|vient bleu|vient bleue|viens bleu|viens bleue",
     .near_not = "service|services|next "
                 "door|ecran|ordinateur|projecteur|simulateur|trackman|telephone|cellulaire|"
                 "reseau|wifi|batterie|bourse|budget|chaud|trop chaud|humide|"
                 "fait chaud|on etouffe|chaud a mourir|on cuit",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO "|" EM_ASK "|bringing my|store my|keep my|fridge on site|"
                    "a fridge",
     .neg = 0},
    {.slug = EM_SECURITY,
     .name = "fr-securite",
     .any = "arme|armes|couteau|couteaux|pistolet|fusil|revolver|menace|menacent|menacer|"
            "menaces|bagarre|bagarres|se battent|se bat|se battre|agresse|agressee|agression|"
            "violent|violente|violents|"
            "agressif|agressive|attaque|attaquent|frappe|frappent|frapper|cambriol*|effraction|"
            "intrus|voleur|voleurs|vole mon|vole ma|vole mes|a vole|ont vole|entrer de force|"
            "entre de force|force la porte|forcer la porte|"
            "forcent la porte|forcent une porte|force une porte|forcer une porte|"
            "forcent la fenetre|force la fenetre|police|va nous tuer|vont nous tuer|"
            "se fait voler|se font voler|on nous vole|nous vole|vol en cours|braquage|braque|"
            "va me tuer|veut nous tuer|va le tuer|va la tuer|bataille|se bataillent|"
            "varger|varge|vargent|se fait battre|se fait tabasser|tabasse|tabassent|"
            "se fait taper dessus|coups de poing|en train de partir avec|se sauve avec|"
            "se sauvent avec|part avec le|part avec la|part avec les|part avec mon|part avec ma|"
            "part avec nos|s en va avec|s en vont avec|se tapent dessus|se tape dessus|se "
            "pognent|se poignent|"
            "se donnent des coups|partir avec mon|partir avec ma|partir avec nos|partir avec les|"
            "parti avec mon|parti avec ma|parti avec nos|parti avec les|"
            "en train de voler|en train de nous voler|vient de voler|viennent de voler|"
            "en train de decrocher|pis de partir avec|pis partir avec|et partir avec|"
            "et de partir avec",
     .near_not = "a force de|frappe la balle|frappe de golf|frappe bien|frappes|coup|balle|balles|"
                 "frappe vraiment|frappe fort|frappe loin|frappe droit|frappe croche|"
                 "on frappe|radar|capteur|ecran|simulateur|trackman|"
                 "carte|compte|mot de passe|forces armees|militaire|veteran*|rabais|"
                 "gateau|police d assurance|vol annule|vol retarde|mon vol|notre vol",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO "|" EM_ASK,
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "fr-refuse",
     .any = "refuse de partir|refuse de sortir|refuse de quitter|refuse de s en aller|"
            "veut pas partir|veut pas sortir|veut pas quitter|veut pas s en aller|"
            "crie apres|hurle apres|gueule apres|crie sur|hurle sur|nous suit|me suit|la suit|"
            "le suit|nous menace|me menace",
     .with = EM_PERSON_FR "|saoul|soul|ivre|gele|agite|agressif|agressive|enfants|nous|me",
     .win = 8,
     .near_not = "ecran|ordinateur|simulateur|trackman|balle|balles|golf|jeu|partie|"
                 "reservation|paiement|carte|telephone|sur instagram|sur facebook",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO "|" EM_ASK,
     .neg = 1},
    {.slug = EM_WATER,
     .name = "fr-eau",
     .any = "inondation|inonde|inondee|inondes|deborde|debordent|debordement|fuite d eau|"
            "eau partout|de l eau partout|tuyau a eclate|tuyau eclate|tuyau perce|"
            "degat d eau|degats d eau|l eau coule|eau coule|coule du plafond|plafond coule|"
            "l eau monte|eau qui monte|sous sol est inonde|toit coule|il pleut dans|eau sort|"
            "eau gicle|eau jaillit|jaillit|l eau rentre|eau qui rentre|rentre par le plafond|"
            "ca coule du plafond|ca coule sur|gicle partout|ca gicle|tuyau vient de peter|"
            "tuyau vient d eclater|tuyau vient de lacher|tuyau vient de casser|"
            "tuyau a pete|tuyau pete|tuyau a creve|tuyau creve|"
            "tuyau a lache|tuyau brise|tuyau a saute|coule partout|ca coule de partout|"
            "pouce d eau|pouces d eau|pied d eau|pieds d eau|centimetres d eau|"
            "eau dans le lobby|eau dans l entree|eau dans le corridor|eau dans les baies|"
            "pleut a l interieur|coule du toit|"
            "fuit|fuite au plafond|fuite d eau au plafond|egout|refoule",
     .near_not = "courriels|messages|demandes|reservations|appels",
     .vwin = 3,
     .not = EM_JOKE "|mdr|" EM_HYPO "|" EM_ASK,
     .neg = 1},
    {.slug = EM_POWER,
     .name = "fr-courant",
     .any = "panne de courant|panne d electricite|panne electrique|plus de courant|"
            "pas de courant|plus d electricite|pas d electricite|coupure de courant|"
            "coupure d electricite|tout est noir|dans le noir|noir total|courant est coupe|"
            "courant coupe|electricite est coupee|electricite coupee|plus de lumiere|"
            "courant vient de sauter|courant a saute|les plombs ont saute|plombs sautes|"
            "tout s est eteint|tout est eteint|les lumieres sont eteintes|"
            "disjoncteur|disjoncte|panne totale|noir comme chez le loup|pu de courant|"
            "pus de courant|toute a saute|tout a saute|lumiere est toute partie|"
            "power a manque|courant a manque|electricite a manque|toute est noir|toute noir|"
            "lumiere est partie|lumieres sont parties|tout est ferme d un coup|"
            "tout a ferme d un coup|tout s est ferme|tout a coupe|toute est ferme|"
            "pu de lumiere|pus de lumiere|pas de lumiere nulle part|tout est tombe noir|"
            "toute est tombe noir|tout est devenu noir|toute est devenu noir|"
            "tombe noir d un coup",
     .near_not = "ecran|ordinateur|projecteur|simulateur|trackman|telephone|tele|tv|"
                 "borne|wifi|internet",
     .vwin = 4,
     .not =
         EM_JOKE "|mdr|" EM_HYPO "|" EM_ASK "|prevue|planifiee|vous avez encore|avez vous encore|"
                 "vous avez tu encore|etes vous ouverts|vous etes ouverts|ouvert quand meme|"
                 "ouverts quand meme",
     .neg = 0},
    {.slug = EM_MEDICAL,
     .name = "fr-secours",
     .any = "au secours|a l aide|aidez moi|aidez nous",
     /* "chu barre dehors, aidez moi": locked out of a booking */
     .not = EM_JOKE "|mdr|barre dehors|barree dehors|bloque dehors|bloquee dehors|code|"
                    "reservation|ecran|simulateur|trackman|ordi|ordinateur",
     .weak = 1},

    /* ---- possible: plausible, not certain (a question, the team notified) ---- */
    {.slug = EM_MEDICAL,
     .name = "fell",
     .possible = 1,
     .any = "fell|fallen|fell down|took a fall|tripped|slipped|collapsing|tombe|tombee",
     .with = EM_PERSON "|i|we",
     .win = 4,
     .near_not = "ball|balls|club|clubs|phone|score|price*|prices|asleep|in love|apart|"
                 "through|behind|short|off the|fell for|slipped my mind|slipped in|"
                 "rankings|leaderboard|booking",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|cancel|refund"},
    {.slug = EM_MEDICAL,
     .name = "unwell",
     .possible = 1,
     .any = "dizzy|faint|feeling faint|feels faint|lightheaded|light headed|doesnt feel well|"
            "not feeling well|feels really sick|throwing up|vomiting|threw up|puked|puking|"
            "feeling off|feeling kinda off|feeling weird|is feeling a bit off|"
            "is feeling a little off|feeling off and|clammy|"
            "not feeling right|se sent pas bien|se sent pas ben|file pas|woozy|looks pale|is pale|"
            "kinda pale|really pale|so pale|not feeling great|not feeling good|feels sick|"
            "went pale|gone pale|bleme|"
            "kinda out of it|really out of it|totally out of it|seems out of it|is out of it|"
            "hes out of it|shes out of it|hurt his|hurt her|"
            "hurt my|hurt himself|hurt herself|twisted|sprained|hurt|injured|injury|"
            "cut himself|cut herself|cut his|cut her|pain|mal|etourdi|etourdie|really hurts|"
            "hurts so bad|hurts really bad|hurts a lot|hurting bad|hurts like hell",
     .near_not = "feelings|feeling hurt|hurt that|price*|wallet|game|score|swing|sim|"
                 "screen|business|sales|hurts to pay|goalie|goalies|quarterback|pitcher|"
                 "striker|defenceman|defenseman|habs|leafs|oilers|canucks|senators|bruins|"
                 "raptors|blue jays|oreilles|ears|musique|music|volume|trop fort|trop forte",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO "|cancel|cancelling|refund|reschedule|booking|tomorrow|"
                    "depuis|chirurgie|surgery|since my|"

                    "next time|tips|any advice|waiver|insurance|liability|last week|yesterday|"
                    "nobody hurt|no one hurt|nobody got hurt|no one got hurt|nobody was hurt|"
                    "no one was hurt|nobodys hurt|not hurt|wasnt hurt|didnt get hurt|no injuries|"
                    "nobody injured|no one injured|personne de blesse|personne blesse"},
    {.slug = EM_FIRE,
     .name = "smell",
     .possible = 1,
     .any = "outlet is hot|outlet feels hot|outlet feels really hot|plug is hot|plug feels hot|"
            "cord is hot|socket is hot|wall is hot|panel is hot|outlet is warm|"
            "weird smell|strange smell|funny smell|odd smell|smells weird|smells funny|"
            "smells strange|smells hot|something smells|chemical smell|electrical smell|"
            "hot smell|smells like something|smells like somethings|somethings hot|"
            "somethings a bit hot|something is hot|smells kinda hot|smells off|drole d odeur|"
            "odeur bizarre|"
            "odeur etrange|ca sent bizarre|ca sent drole|beeping|chirping|bips|bip",
     .near_not = "beer|food|bathroom|washroom|feet|socks|shoes|perfume|cologne|garbage|"
                 "pizza|battery|batteries|pile|piles|door|kiosk|card|reader|terminal|"
                 "truck|car|phone|sim|trackman|microwave|porte|portes|lien|code|serrure|ecran|"
                 "telephone|cellulaire|lecteur|carte|auto|char|micro ondes",
     .vwin = 6,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_SECURITY,
     .name = "uneasy",
     .possible = 1,
     .any = "sketchy|suspicious|strange man|strange guy|weird guy|weird man|hanging around|"
            "banging on|pounding on|knocking on|knocking at|yelling|shouting|screaming|someone "
            "outside|"
            "somebody outside|following|bizarre|louche|crie|hurle|nous regarde|nous observe|"
            "nous surveille|nous fixe|me regarde|me fixe|nous guette|rode|rodent",
     .with = EM_PERSON "|" EM_PERSON_FR "|door|outside|lobby|parking|lot|window|us|me|entrance|"
                       "back|porte|dehors|entree|stationnement",
     .win = 8,
     .near_not = EM_TECH "|ball|balls|golf|swing|score|music|tv|game|laughing|fun|joy|"
                         "following up|follow up|following week|following day|the following|"
                         "yelling fore|fore|instructions|the rules",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday"},
    {.slug = EM_MEDICAL,
     .name = "body-hurt",
     .possible = 1,
     .any = "rubbing his|rubbing her|rubbing my|holding his|holding her|holding my|clutching "
            "his|clutching her|clutching my|"
            "grabbing his|grabbing her|popped|gave out|gave way|se tient|se tenait",
     .with = EM_BODY,
     .win = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago"},
    /* "got bonked on the arm by a ball, she's crying": hurt, maybe not badly */
    {.slug = EM_MEDICAL,
     .name = "hit-crying",
     .possible = 1,
     .any = "crying|cries|in tears|screaming|wincing|pleure|braille",
     .with = "hit|bonked|smacked|whacked|clipped|drilled|struck|nailed|frappe|frappee|"
             "accroche|accrochee",
     .win = 12,
     .near_not = "laughing|laugh|lol|movie|song|baby|toddler|tired|nap|ipad|tablet|phone",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago"},
    /* a French allergy: asking for the kit is asking for help */
    {.slug = EM_MEDICAL,
     .name = "fr-allergie",
     .any = "reaction allergique|choc anaphylactique|choc allergique|gorge enfle|"
            "gorge qui enfle|gorge gonfle|gorge qui gonfle|gorge serre|gorge qui serre|"
            "levres enflent|langue enfle|visage enfle|face enfle|fait une allergie|"
            "fait une reaction",
     .not = EM_JOKE "|mdr|" EM_HYPO,
     .neg = 1},
    /* a ball off an arm or a leg: hurt, perhaps */
    {.slug = EM_MEDICAL,
     .name = "ball-body",
     .possible = 1,
     .any = "ball|balle",
     .with = "arm|forearm|leg|shin|thigh|calf|hip|knee|hand|finger|fingers|wrist|ribs|rib|"
             "shoulder|elbow|ankle|foot|bras|jambe|cuisse|hanche|doigt|"
             "genou|main|poignet|cotes|epaule|coude|cheville|pied",
     .win = 6,
     .also = "hit|hits|struck|took|caught|smacked|whacked|nailed|drilled|bounced|ricocheted|"
             "came back|pogne|recu|rebondi",
     .near_not = "position|stance|forward|back foot|front foot|placement|ball flight|"
                 "in my hand|in his hand|in her hand|hand me|a hand|one hand|with one|"
                 "two hands|both hands|barehanded|bare handed|with his hand|with her hand|"
                 "with my hand|grab|catch",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|last time|ago|lol|haha|how do i|how to|"
                    "tips|tip|lesson|drill|drills"},
    {.slug = EM_SECURITY,
     .name = "door-knock",
     .possible = 1,
     .any = "banging|pounding|knocking|bangs|pounds|knocks|kicking|cogne|cognent|frappe|"
            "frappent|fesse|fessent",
     .with = "door|doors|window|windows|porte|portes|fenetre|fenetres|vitre",
     .win = 12,
     .also = "dont know who|no idea who|not sure who|dont know them|sais pas qui|"
             "sait pas qui|sait pas c est qui|sais pas c est qui|inconnu|stranger|strangers|"
             "wont stop|keeps|for a while|depuis tantot|depuis un bout|arrete pas|"
             "wont go away|scared|peur",
     .near_not = "delivery|livreur|livraison|my friend|mon ami|mon chum|ma blonde|uber|"
                 "doordash|pizza",
     .vwin = 6,
     .not = EM_JOKE "|" EM_HYPO "|let them in|let him in|let her in|ouvrir a|"
                    "last week|yesterday|ago"},
    /* a drip from the ceiling, in French (possible) */
    {.slug = EM_WATER,
     .name = "fr-goutte",
     .possible = 1,
     .any = "degoutte|degouttent|ca goutte|gouttes|goutte",
     .with = "plafond|toit|tuile|tuiles|mur",
     .win = 6,
     .not = EM_JOKE "|mdr|" EM_HYPO "|la semaine passee|hier"},
    /* someone watching the place from a parked car (possible) */
    {.slug = EM_SECURITY,
     .name = "watching",
     .possible = 1,
     .any = "surveille|surveillent|watching|casing|staking out|lurking",
     .with = "car|van|truck|char|auto|voiture|outside|dehors|parked|stationne|door|porte|"
             "entrance|building|place",
     .win = 10,
     .also = "depuis|for an hour|for a while|for hours|an hour|all night|une heure|un bout|"
             "same car|same van|nobody gets out|personne sort",
     .near_not = EM_TECH "|game|tv|movie|golf|swing|weather|weight|diet|budget",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|uber|taxi|ride|pick up|pickup|"
                    "waiting for me|waiting for us|attend"},
    {.slug = EM_MEDICAL,
     .name = "back-hurt",
     .possible = 1,
     .any = "holding his back|holding her back|holding my back|threw his back out|"
            "threw my back out|threw out his back|threw out my back|hurt his back|"
            "hurt her back|hurt my back",
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago"},
    {.slug = EM_POWER,
     .name = "flicker",
     .possible = 1,
     .any = "lights|the lights|all the lights|power|lumieres|les lumieres|courant|le courant|"
            "electricity|lighting",
     .with = "flickering|flicker|flickers|flickered|keep going off|keeps going off|"
             "going off and on|off and on|on and off|keep cutting out|keeps cutting out|"
             "cuts in and out|clignotent|clignote|coupe et revient|saute|sautent|flashent|flash|"
             "flashe|font des flash",
     .win = 5,
     .near_not = "turn|turning|switch|restart|reset|reboot|unplug|in bay|a bit|"
                 "a little|slightly|bulb|one light|one of the lights|light in|screen|"
                 "projector|tv|sign|sim|pc|monitor|ampoule|ecran|projecteur",
     .vwin = 5,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|came back|back on|back to normal|"
                    "fine now|for a sec|for a second"},
    /* a stranger wandering among the bays: someone should check */
    {.slug = EM_SECURITY,
     .name = "wanderer",
     .possible = 1,
     .any = "wandering|wandering around|wandered in|walked in|walking around|roaming",
     .with = "isnt with us|not with us|nobody knows|dont know him|dont know her|"
             "dont know who|no idea who|random guy|random person|stranger|some guy",
     .win = 10,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago"},
    {.slug = EM_POWER,
     .name = "flicker-keeps",
     .possible = 1,
     .any = "lights keep flickering|lights keeps flickering|lights wont stop flickering|"
            "lights keep cutting out|lights keep going off",
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|every time|when i|when we"},
    /* the lights flickering again and again: a fault, maybe the supply */
    {.slug = EM_POWER,
     .name = "flicker-again",
     .possible = 1,
     .any = "lights flickered|lights flicker|lights flickering|lights are flickering|"
            "lumieres clignotent",
     .with = "keeps doing it|keeps happening|keeps doing that|again and again|over and over|"
             "every few minutes|still doing it|a couple times|a few times|several times|"
             "recommence|encore et encore",
     .win = 20,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago"},
    {.slug = EM_SECURITY,
     .name = "tailgate",
     .possible = 1,
     .any = "followed us in|came in behind us|came in with us|slipped in behind|snuck in behind|"
            "walked in behind us|rentre en meme temps|entre en meme temps|rentre derriere nous|"
            "entre derriere nous|suivi en dedans",
     .with = "guy|man|stranger|someone|somebody|person|gars|quelqu un|inconnu|random|dude",
     .win = -6,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|my friend|my buddy|our friend"},
    {.slug = EM_MEDICAL,
     .name = "ask-ok",
     .possible = 1,
     .any = "is he ok|is she ok|is he okay|is she okay|is he alright|is she alright|"
            "is he all right|is she all right|are they ok|are they okay|is he breathing|"
            "is she breathing|il est tu correct|elle est tu correcte|est ce qu il va bien|"
            "est ce qu elle va bien|il va tu bien|elle va tu bien",
     .near_not = "with|to|about|for|playing|sharing|if i|if we|on|in|at",
     .vwin = 1,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_MEDICAL,
     .name = "unsure-ok",
     .possible = 1,
     .any = "hes ok|shes ok|hes okay|shes okay|hes alright|shes alright|hes all right|"
            "shes all right|he is ok|she is ok|he is okay|she is okay|theyre ok|theyre okay|"
            "hes breathing|shes breathing|s il est correct|si elle est correcte|s il va bien|"
            "si elle va bien|s il est ok|si elle est ok|s il respire|si elle respire|"
            "s il est conscient|si elle est consciente",
     .with = "not sure if|not sure whether|not sure|dont know if|dont know whether|"
             "cant tell if|cant tell whether|unsure if|no idea if|wondering if|"
             "sais pas|pas sur|pas sure|pas certain|pas certaine",
     .win = -4,
     .near_not = "with|to|about|for|playing|sharing",
     .vwin = 1,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_FIRE,
     .name = "warm-outlet",
     .possible = 1,
     .any = "outlet|outlets|plug|socket|breaker|breakers|electrical panel|power bar|"
            "power strip|extension cord|cord|prise|prises|prise electrique|panneau electrique|"
            "disjoncteur|pc box|pc case|pc tower|computer tower|tower|power supply|wire|wires|"
            "cable|cables|boitier",
     .with = "warm|hot|burning hot|too hot|heating up|chaud|chaude|brulant|brulante|chauffe",
     .win = 10,
     .near_not = "coffee|food|tea|shower|hot tub|hot dog|hotdog|hot chocolate|phone|charger|"
                 "laptop|cafe",
     .vwin = 4,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_WATER,
     .name = "growing-water",
     .possible = 1,
     .any = "growing|getting bigger|keeps growing|spreading|keeps spreading|grossit|grandit",
     .with = "puddle|puddles|water|wet|wet patch|leak|leaking|drip|dripping|flaque|eau|"
             "ceiling tile|stain on the ceiling",
     .win = 14,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_WATER,
     .name = "unsure-leak",
     .possible = 1,
     .any = "or its leaking|or a leak|or leaking|or something is leaking|or something leaking|"
            "could be a leak|might be a leak|maybe a leak|maybe its leaking|might be leaking|"
            "could be leaking|ou une fuite|ou ca fuit|ou ca coule|peut etre une fuite",
     .not = EM_JOKE},
    {.slug = EM_FIRE,
     .name = "bang",
     .possible = 1,
     .any = "bang|boom|crash|pop|explosion|blast|gunshot|bruit d explosion|grosse explosion|"
            "gros bang",
     .with = "loud|huge|big|massive|enormous|heard|sounded like|like an|like a",
     .win = -3,
     .near_not = EM_TECH "|ball|balls|hit|hits|hitting|every shot|impact|net|music|volume|"
                         "door slammed|slammed|thunder|fireworks|car|truck|next door|theory|"
                         "course|buck|pop music|k pop|soda|big bang theory",
     .vwin = 5,
     .not = EM_JOKE "|" EM_HYPO "|" EM_ASK "|last week|yesterday"},
    {.slug = EM_WATER,
     .name = "wet",
     .possible = 1,
     .any = "water on the floor|water on the ground|water in the hallway|water by the|"
            "water coming|dripping|drip|puddle|puddles|wet floor|floor is wet|de l eau|flaque|"
            "flaques|plancher mouille|plancher est mouille|eau par terre|eau sur le plancher",
     .near_not = "spilled|spill|spilt|drink|drinks|beer|coffee|juice|soda|bottle|bottles|glass|"
                 "glasses|cup|cups|"
                 "snow|umbrella*|boots|shoes|rain|mop|towel|a little|a bit|small|tiny|"
                 "sweat|faucet|tap|un peu|eclabousse|eclabousser|eclaboussure|splashed|"
                 "evier|lavabo",
     .vwin = 6,
     .not = EM_JOKE "|" EM_HYPO "|no big deal|not urgent"},
    {.slug = EM_MEDICAL,
     .name = "labour",
     .any = "water just broke|water broke|waters broke|waters just broke|in labour|in labor|"
            "going into labour|going into labor|having contractions|contractions are",
     .near_not = "main|pipe|pipes|line|heater|fountain|cooler|bottle|jug|tank|glass|machine|"
                 "dispenser|toilet|sink",
     .vwin = 3,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|last time|due date|classes",
     .neg = 1},
    {.slug = EM_SECURITY,
     .name = "restraining",
     .any = "restraining order|no contact order|protection order|peace bond|"
            "ordonnance de non communication|interdit de contact",
     .with = "here|showed up|is in|hes in|shes in|outside|in the lobby|lobby|parking|at the door|"
             "just came|came in|walked in|ici|arrive|est la",
     .win = 12,
     .not = EM_JOKE "|" EM_HYPO "|last week|yesterday|ago|policy|how do i get|lawyer|enforce|"
                    "allowed|banned"},
    {.slug = EM_MEDICAL,
     .name = "come-quick",
     .possible = 1,
     .any = "somethings wrong|something is wrong|something s wrong|come quick|come quickly|"
            "get here now|get over here|viens vite|venez vite|ca va pas pantoute",
     .near_not = "screen|booking|app|account|card|charge|code|wifi|payment|sim|simulator|"
                 "trackman|pc|projector|computer|kiosk|door code|ecran|ordi|reservation",
     .vwin = 5,
     .not = EM_JOKE "|" EM_HYPO},
    {.slug = EM_MEDICAL,
     .name = "help-shout",
     .possible = 1,
     .any = "help|urgent|please help|help me|help us|aidez|aide",
     .near_not = "booking|book|change|cancel|account|code|wifi|password",
     .vwin = 3,
     .not = EM_JOKE,
     .shout = 3},
};

#define EM_NRULES (sizeof(em_rules) / sizeof(em_rules[0]))

/* A message as words. */
struct em_text {
	char        norm[EM_MAX_TEXT];
	char        clean[EM_MAX_TEXT];
	const char *w[EM_MAX_TOKENS];
	size_t      len[EM_MAX_TOKENS];
	int         next[EM_MAX_TOKENS]; /* next word with the same first byte, -1 */
	int         head[256];           /* first word starting with each byte, -1 */
	int         tail[256];
	bool        brk[EM_MAX_TOKENS];   /* a clause ends before this word (. : ; ! ?) */
	bool        asked[EM_MAX_TOKENS]; /* a '?' follows this word */
	bool        pending;              /* ... before the next word pushed */
	const char *end;                  /* the end of the last token read, or NULL */
	size_t      n, used;
};

/* em_push - append one word */
static void
em_push(struct em_text *t, const char *w, size_t len)
{
	size_t        i, k = 0;
	unsigned char c;
	char         *dst;

	if (t->n >= EM_MAX_TOKENS || t->used + len + 1 > sizeof(t->clean))
		return;
	dst = t->clean + t->used;
	for (i = 0; i < len; i++)
		if (w[i] != '\'')
			dst[k++] = w[i];
	if (k == 0)
		return;
	t->w[t->n] = dst;
	t->len[t->n] = k;
	t->next[t->n] = -1;
	t->brk[t->n] = t->pending;
	t->asked[t->n] = false;
	t->pending = false;
	c = (unsigned char)dst[0];
	if (t->head[c] < 0)
		t->head[c] = (int)t->n;
	else
		t->next[t->tail[c]] = (int)t->n;
	t->tail[c] = (int)t->n;
	t->n++;
	t->used += k;
}

/*
 * em_tok_cb - keep a word, apostrophes dropped ("won't" = "wont"); a French
 * elision is two words ("l'alarme" = "l alarme", "qu'il" = "qu il"), so
 * that "alarme" is found whatever article it carries.
 */
static void
em_tok_cb(const char *tok, size_t len, void *arg)
{
	static const char *const elided[] = {"l",      "d",      "j",      "m",  "n",
	                                     "s",      "t",      "c",      "qu", "jusqu",
	                                     "lorsqu", "puisqu", "quelqu", "y",  NULL};
	struct em_text          *t = arg;
	const char              *ap = memchr(tok, '\'', len);

	for (const char *q = t->end; q != NULL && q < tok; q++)
		if (strchr(".:;!?", *q) != NULL) {
			t->pending = true;
			if (*q == '?' && t->n > 0)
				t->asked[t->n - 1] = true;
		}
	t->end = tok + len;

	if (ap != NULL && (size_t)(ap - tok) + 1 < len) {
		size_t pl = (size_t)(ap - tok);

		for (const char *const *e = elided; *e != NULL; e++)
			if (strlen(*e) == pl && memcmp(tok, *e, pl) == 0) {
				em_push(t, tok, pl);
				em_push(t, ap + 1, len - pl - 1);
				return;
			}
	}
	em_push(t, tok, len);
}

/*
 * em_term_at - does the term s[0..tl) match the words from position p?
 * Returns the number of words it covers, or 0.
 */
static size_t
em_term_at(const struct em_text *t, const char *s, size_t tl, size_t p)
{
	size_t i = 0, k = 0;

	while (i < tl) {
		size_t j = i, wl;
		int    prefix = 0;

		while (j < tl && s[j] != ' ')
			j++;
		wl = j - i;
		if (wl > 0 && s[i + wl - 1] == '*') {
			prefix = 1;
			wl--;
		}
		if (p + k >= t->n)
			return 0;
		if (prefix ? (t->len[p + k] < wl || memcmp(t->w[p + k], s + i, wl) != 0)
		           : (t->len[p + k] != wl || memcmp(t->w[p + k], s + i, wl) != 0))
			return 0;
		k++;
		i = j + 1;
	}
	return k;
}

/* em_list_at - the first term of a '|' list matching at position p; words covered or 0 */
static size_t
em_list_at(const struct em_text *t, const char *list, size_t p)
{
	const char *s = list;
	char        c0;

	if (p >= t->n)
		return 0;
	c0 = t->w[p][0];
	while (*s) {
		const char *e;
		size_t      k;

		/* most terms fail on their first letter: skip them cheaply */
		if (*s != c0 && *s != '*') {
			while (*s && *s != '|')
				s++;
			if (*s)
				s++;
			continue;
		}
		e = strchr(s, '|');
		k = em_term_at(t, s, e ? (size_t)(e - s) : strlen(s), p);
		if (k > 0)
			return k;
		if (e == NULL)
			break;
		s = e + 1;
	}
	return 0;
}

/* A place a term matched: p its first word, k the words it covers. */
typedef int (*em_place_fn)(const struct em_text *t, size_t p, size_t k, void *arg);

/*
 * em_each - does a term of list occur in t at a place fn accepts (fn NULL:
 * any place)?  Each term is tried only at the words that start with its
 * first letter, so a long list costs little on a short message.
 */
static int
em_each(const struct em_text *t, const char *list, em_place_fn fn, void *arg)
{
	const char *s = list;

	while (*s) {
		const char *e = strchr(s, '|');
		size_t      tl = e ? (size_t)(e - s) : strlen(s), k;
		int         p;

		if (tl > 0 && *s != '*') {
			for (p = t->head[(unsigned char)*s]; p >= 0; p = t->next[p])
				if ((k = em_term_at(t, s, tl, (size_t)p)) > 0 &&
				    (fn == NULL || fn(t, (size_t)p, k, arg)))
					return 1;
		} else if (tl > 0) {
			for (p = 0; (size_t)p < t->n; p++)
				if ((k = em_term_at(t, s, tl, (size_t)p)) > 0 &&
				    (fn == NULL || fn(t, (size_t)p, k, arg)))
					return 1;
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
	return 0;
}

/*
 * em_near - does a term of list start within [lo - w, hi + w]?  w == 0 means
 * anywhere, w < 0 only the -w words before lo (and the anchor itself).
 * Positions lo..hi (the anchor) do not count when skip is set.
 */
/* em_window - the words [*a, *b) within w words of lo..hi (em_near) */
static void
em_window(const struct em_text *t, size_t lo, size_t hi, int w, size_t *a, size_t *b)
{
	size_t aw = (size_t)(w < 0 ? -w : w);

	*a = (w == 0 || aw >= lo) ? 0 : lo - aw;
	*b = (w == 0) ? t->n : w < 0 ? hi + 1 : hi + aw + 1;
	if (*b > t->n)
		*b = t->n;
}

static int
em_near(const struct em_text *t, const char *list, size_t lo, size_t hi, int w, int skip)
{
	size_t a, b, q;

	if (w == 0 && !skip)
		return em_each(t, list, NULL, NULL);
	em_window(t, lo, hi, w, &a, &b);
	for (q = a; q < b; q++) {
		if (skip && q >= lo && q <= hi)
			continue;
		if (em_list_at(t, list, q))
			return 1;
	}
	return 0;
}

/* Words that say where something happened, not what it happened to. */
#define EM_PLACE                                                                                   \
	"by|near|beside|behind|next to|in front of|outside|inside|at|toward|towards|"              \
	"against|past|around"

/* em_clause_break - does a clause end between words a and b (a < b)? */
static bool
em_clause_break(const struct em_text *t, size_t a, size_t b)
{
	for (size_t i = a + 1; i <= b && i < t->n; i++)
		if (t->brk[i])
			return true;
	return false;
}

/*
 * em_near_not - does a guard of list stand within w words of the anchor
 * lo..hi (em_near's window, the anchor included), in the same clause ("the
 * team line: flames on the ceiling" is no team event)?  A guard that a word of
 * place governs names where it happened, not what it happened to: "my dad
 * collapsed by the tee box", "beside the net, she collapsed".  After the
 * anchor, a word of place anywhere between the two; before it, one of the
 * three words before the guard.
 */
static int
em_near_not(const struct em_text *t, const char *list, size_t lo, size_t hi, int w)
{
	size_t a, b, q;

	if (w == 0)
		return em_each(t, list, NULL, NULL);
	em_window(t, lo, hi, w, &a, &b);
	for (q = a; q < b; q++) {
		size_t v;

		if (!em_list_at(t, list, q))
			continue;
		if (q >= lo && q <= hi)
			return 1;
		if (q < lo ? em_clause_break(t, q, lo) : em_clause_break(t, hi, q))
			continue;
		v = q > hi ? hi + 1 : q >= 3 ? q - 3 : 0;
		while (v < q && !em_list_at(t, EM_PLACE, v))
			v++;
		if (v == q)
			return 1;
	}
	return 0;
}

/* em_negated - is the word at p right after a negation? */
static int
em_negated(const struct em_text *t, size_t p)
{
	size_t d;

	for (d = 1; d <= 2 && d <= p; d++)
		if (em_list_at(t, EM_NEG_LIST, p - d))
			return 1;
	return 0;
}

/*
 * em_anchor_ok - do the rule's context and guards accept an anchor at p..e?
 * 1 yes, 0 the context is missing, -1 a guard holds it back ("no smoke",
 * "smoke break").
 */
static int
em_anchor_ok(const struct em_rule *r, const struct em_text *t, size_t p, size_t e)
{
	if (r->with && !em_near(t, r->with, p, e, r->win, 1))
		return 0;
	if (r->also && !em_near(t, r->also, p, e, r->win, 1))
		return 0;
	if (r->neg && em_negated(t, p))
		return -1;
	if (r->near_not && em_near_not(t, r->near_not, p, e, r->vwin))
		return -1;
	return 1;
}

/*
 * em_rule_fires - does rule r fire anywhere in t?  1 yes; -1 no, because a
 * guard held back an anchor that had its context; 0 no.  Each anchor term is
 * tried only at the words that start with its first letter.
 */
static int
em_rule_fires(const struct em_rule *r, const struct em_text *t)
{
	const char *s = r->any;
	int         hit = 0, held = 0, ok;

	if (r->shout > 0 && t->n > (size_t)r->shout)
		return 0;

	while (*s && !hit) {
		const char *e = strchr(s, '|');
		size_t      tl = e ? (size_t)(e - s) : strlen(s);
		int         p;

		if (tl > 0 && *s != '*') {
			for (p = t->head[(unsigned char)*s]; p >= 0 && !hit; p = t->next[p]) {
				size_t k = em_term_at(t, s, tl, (size_t)p);

				if (k > 0 &&
				    (ok = em_anchor_ok(r, t, (size_t)p, (size_t)p + k - 1)) != 0)
					hit |= ok > 0, held |= ok < 0;
			}
		} else if (tl > 0) {
			for (p = 0; (size_t)p < t->n && !hit; p++) {
				size_t k = em_term_at(t, s, tl, (size_t)p);

				if (k > 0 &&
				    (ok = em_anchor_ok(r, t, (size_t)p, (size_t)p + k - 1)) != 0)
					hit |= ok > 0, held |= ok < 0;
			}
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
	if (hit && r->not &&em_near(t, r->not, 0, 0, 0, 0))
		return -1;
	return hit ? 1 : held ? -1 : 0;
}

/*
 * Scopes: what the whole message says about when, where and how serious.
 * The rules carry their own guards (each rule's near_not and not lists);
 * these read the message as a whole.  A story (past tense, somewhere
 * else) is not an emergency unless something says it is happening now; a
 * message that says it is not urgent goes down one level; and every guard
 * keeps em_fuse() from letting the classifier alone page anyone for a
 * story, a joke, a question or a broken screen.  The first guard that
 * matches names the guard.
 */
#define EM_NOW                                                                                     \
	"right now|still|currently|hurry|asap|immediately|minutes ago|minute ago|min ago|"         \
	"mins ago|seconds ago|moment ago|just now|and now|now hes|now shes|now its|now theres|"    \
	"now the|is now|are now|please help|help us|call 911|send someone|en ce moment|"           \
	"come quick|come quickly|send help|maintenant|vite|toujours|rn|atm|getting stronger|as "   \
	"we speak|"                                                                                \
	"getting worse|getting thicker|getting bigger|keeps getting|is spreading|spreading fast|"  \
	"de plus en plus"

/* "still" that waits for something owed ("still waiting on my refund") is
 * about the request, not about the incident going on. */
#define EM_STILL_OWED                                                                              \
	"waiting|waitin|havent|hasnt|didnt|dont|owe|owed|hoping|looking for|no word|no reply|"     \
	"no answer|no response|no refund|not refunded|not received|nothing back"

/* ... nor a "still" that asks whether the venue carries on ("are you guys
 * still running?"): one of EM_STILL_ASKER before it, EM_STILL_ON after. */
#define EM_STILL_ASKER                                                                             \
	"you|guys|u|yall|we|harbourview|riverside|the venue|your place|pm|am|booking|reservation|" \
	"session|slot|tee time|time|plans|league|lesson|party|event|road|street|bridge|highway|"   \
	"route"
#define EM_STILL_ON "running|on|going|open|operating|ouvert|ouverts"

/* ... nor a "still" about a thing's place or validity ("is the map still at
 * the same address", "is that code still valid"). */
#define EM_STILL_ELSE "at the same|the same|valid|good for|available|online|listed|up to date"

/* What follows a "say" that opens a supposition ("say a pipe burst"). */
#define EM_SUPPOSED "a|an|the|theres|there|someone|somebody|we|i|my|our|your|its|it|he|she|they"

/* Words that ask whether someone is fine rather than say so. */
#define EM_UNSURE                                                                                  \
	"if|whether|sure|unsure|know|tell|hope|hoping|check|wonder|wondering|is|"                  \
	"sais pas|says|say|saying|claims|insists|dit"

enum em_scope { EM_S_CLF, EM_S_STORY, EM_S_CALM, EM_S_SAFE };

static const struct em_guard {
	const char   *name;
	enum em_scope scope;
	const char   *any;  /* terms anywhere in the message */
	const char   *with; /* NULL, or a context that must start within win words */
	int           win;
	const char   *unless; /* NULL, or words that void a match up to uwin words before */
	int           uwin;
} em_guards[] = {
    {"joke", EM_S_CLF, EM_JOKE "|mdr|ptdr", NULL, 0, NULL, 0},
    {"hypothetical", EM_S_CLF,
     EM_HYPO "|" EM_ASK "|what happens|what do i do|what do we do|what should i|"
             "what should we|who do i call|who do we call|who should|procedure|protocol|"
             "policy|plan for|how do we report|how do i report|emergency contact|"
             "emergency number|emergency exit|que faire|quoi faire|sortie de secours|"
             "trousse|premiers soins|is that ok|is that okay|is it ok|is it okay|"
             "is that allowed|is it allowed|are we allowed|am i allowed|est ce correct",
     NULL, 0, NULL, 0},
    {"past", EM_S_STORY,
     "last week|last month|last year|last night|last time|yesterday|ago|the other day|"
     "yesterdays|last nights|last weeks|last weekends|"
     "last summer|last spring|last fall|last autumn|last winter|last weekend|last season|"
     "before us|before we came|before we got here|earlier today|earlier tonight|this morning|"
     "on monday|on tuesday|on wednesday|on thursday|on friday|on saturday|on sunday|"
     "last monday|last tuesday|last wednesday|last thursday|last friday|last saturday|"
     "last sunday|this past|the other night|last visit|our last|my last|"
     "a while back|earlier this week|earlier this month|months back|weeks back|"
     "after the fire|after the flood|after the outage|after the power outage|"
     "since the fire|since the flood|since the outage|hier|la semaine derniere|"
     "le mois dernier|l an dernier|l autre jour|il y a eu|y a eu|apres l incendie|"
     "lundi passe|mardi passe|mercredi passe|jeudi passe|vendredi passe|samedi passe|"
     "dimanche passe|lundi dernier|mardi dernier|mercredi dernier|jeudi dernier|"
     "vendredi dernier|samedi dernier|dimanche dernier|la semaine passee|le mois passe|"
     "l annee passee|l annee derniere|la fin de semaine passee|la fin de semaine derniere|"
     "le weekend passe|le weekend dernier|la derniere fois|l autre soir|avant hier|hier soir|"
     "back in january|back in february|back in march|back in april|back in may|back in june|"
     "back in july|back in august|back in september|back in october|back in november|"
     "back in december|back in the spring|back in the summer|back in the fall|"
     "back in the winter|was scary|was so scary|was terrifying|was crazy|was wild|was insane|"
     "was nuts|was intense|was a mess|had to leave early|we left early|left early|"
     "had to cut|cut short|had to stop early|etait fou|etait epeurant|m a fait peur|"
     "when we left|after we left|as we were leaving|when we were leaving|"
     "was everything ok after|was everything okay after|everything ok after|"
     "nous a fait peur|tues|thurs|weds|on mon|on tue|on wed|on thu|on fri|on sat|on sun|"
     "last tues|last thurs|last weds|was fixed|were fixed|got fixed|been fixed|"
     "was repaired|were repaired|got repaired|been repaired|"
     "from monday|from tuesday|from wednesday|from thursday|from friday|from saturday|"
     "from sunday",
     NULL, 0, "wasnt|werent|was not|were not|was fine|were fine", 3},
    {"past", EM_S_STORY,
     "during our booking|during my booking|during our session|during my session|"
     "during our time|during our round|during our game|pendant notre reservation|"
     "pendant ma reservation|pendant notre session",
     "credit|refund|refunded|money back|reimburse|reimbursed|compensation|compensate|"
     "lost an hour|lost half|lost our|lost time|remboursement|rembourser|rembourse|"
     /* "during our session sunday": told after the day it happened */
     "sunday|monday|tuesday|wednesday|thursday|friday|saturday|weekend|may have left|"
     "left a mess|left behind|sorry about the mess|sorry for the mess",
     15, NULL, 0},
    {"elsewhere", EM_S_STORY,
     "at home|at my house|at my place|at my office|at the office|at school|on the news|"
     "at our house|at our place|our house|my house|our home|my apartment|our apartment|"
     "our cottage|at my work|my office|my kitchen|my bathroom|my ceiling|my roof|"
     "my basement|in my basement|my garage|my attic|my condo|mon sous sol|"
     "upstairs neighbour|upstairs neighbor|my neighbours|my neighbors|my landlord|"
     "chez ma mere|chez mon pere|notre maison|ma maison|mon appartement|mon logement|"
     "on tv|in a movie|in the movie|on the radio|a la radio|aux nouvelles|a la tele|"
     "on the highway|on the freeway|on the way here|on our way here|on my way here|"
     "driving here|driving over|sur l autoroute en venant|en venant ici|"
     "a la television|aux infos|sur l autoroute|a la maison|chez moi|au bureau|my neighbourhood|"
     "whole neighbourhood|whole neighborhood|my whole street|"
     "my neighborhood|our neighbourhood|our neighborhood|my area|my street|mon quartier|"
     "dans mon coin|dans mon quartier|mon bloc appart|mon bloc appartement|mon immeuble|"
     "chez mon voisin|chez ma voisine|chez le voisin|chez les voisins|dans ma rue|"
     "notre immeuble|cant make it tonight|cant make it today|wont make it tonight|"
     "wont make it today|cant make it in|wont make it in|stuck in traffic|traffic is stopped|"
     "traffic is backed up|on pourra pas venir|on peut pas venir|pourra pas venir|"
     "pourrai pas venir|pourrons pas venir|peux pas venir|pas capable de venir|across town|"
     "other side of town|other end of town|his basement|her basement|their basement|"
     "buddys basement|friends basement|his house|her house|their house|buddys house|"
     "friends house|his apartment|her apartment|their apartment|notre boutte|mon boutte|"
     "dans notre coin|pas chez vous|fire trucks at the|firetrucks at the|at the restaurant|"
     "im at the hospital|were at the hospital|we are at the hospital|i am at the hospital|"
     "at the er|in the er|on est a l urgence|on est a l hopital|je suis a l hopital|"
     "je suis a l urgence|chu a l hopital|chu a l urgence|au hockey|at hockey|"
     "at a restaurant",
     NULL, 0,
     /* what was left at home is not where it happens ("her epipen is at home") */
     "epipen|epi pen|inhaler|puffer|pompe|meds|medication|medicine|pills|insulin|glucose|"
     "left|forgot|forgotten|restee|reste|oublie|oubliee",
     4},
    /* "chez nous" is home, unless it names the venue ("chez nous a Riverside") */
    {"elsewhere", EM_S_STORY, "chez nous", NULL, 0,
     "riverside|harbourview|clubhouse|baie|baies|bay|local|ici|succursale|simulateur", 0},
    {"safe", EM_S_SAFE,
     "hes fine|shes fine|hes ok|shes ok|hes okay|shes okay|is fine now|are fine now|"
     "everyone is fine|everyones fine|everyone is ok|everyone is okay|all good now|recovered|"
     "doing fine|doing better|is ok now|is okay now|were all fine|were all ok|tout le monde va "
     "bien|totally fine|completely fine|perfectly fine|fine now|seems ok|seems okay|seems fine|"
     "seems alright|seems all right|looks ok|looks okay|looks fine|all good here|"
     "all good on our end|all fine here|were fine here|we are fine here|fine over here|"
     "va mieux|vont mieux|no one hurt|noone hurt|nobody hurt|no one is hurt|nobody is hurt|"
     "no one was hurt|nobody was hurt|no one got hurt|nobody got hurt|no one injured|"
     "nobody injured|personne de blesse|personne est blesse",
     NULL, 0, EM_UNSURE, 3},
    /* "il va bien maintenant", not "il va bien falloir appeler" */
    {"safe", EM_S_SAFE, "il va ben|elle va ben|il va bien|elle va bien|ils vont bien|vont ben",
     "maintenant|astheure|asteure|la|correct|now", 2, EM_UNSURE, 3},
    /* the asker's own doubt: checked on, not paged ("might be nothing") */
    {"doubt", EM_S_SAFE,
     "might be nothing|could be nothing|probably nothing|prob nothing|maybe its nothing|"
     "might just be asleep|probably just asleep|maybe just asleep|might just be sleeping|"
     "probably just sleeping|cest peut etre rien|c est peut etre rien|surement rien|"
     "thinks its just|think its just|thinks it is just|says its just|most likely just",
     NULL, 0, NULL, 0},
    {"not-urgent", EM_S_CALM,
     "every time|when you get a chance|when you can|"
     "not urgent|no big deal|no rush|not an emergency|just a heads up|just so you know|"
     "just letting you know|fyi|nothing serious|nothing urgent|everything else is fine|"
     "everything else works|not a big deal|pas urgent|rien de grave",
     NULL, 0, NULL, 0},
    {"hyperbole", EM_S_CLF,
     "killing me|killing us|killing it|killed it|kill me|kills me|would kill|will kill me|"
     "gonna kill me|going to kill me|dying to|dying for|dying of|die for|id die|"
     "dying laughing|died laughing|dead laughing|crying laughing|laughing so hard|"
     "almost died|nearly died|im dead|i died|dead tired|dead set|murder|murdered|"
     "slaughtered|destroyed|lifesaver*|saved my life|highway robbery|criminal|"
     "on fire|is fire|so fire|blew up|ca me tue|me tue|en meurs|mortel|en feu ce|"
     "shot the lights out|back nine|front nine|hole in one|birdie|birdies|eagle|bogey|"
     "pure fire|smoked that|smoked it|smoked the|smoked my|destroying|murdering|bloodbath|"
     "blood bath|carnage|massacre|massacring",
     NULL, 0, NULL, 0},
    {"device", EM_S_CLF,
     EM_TECH "|bulb|battery|batteries|fan|tower|launch monitor|ecran|ordinateur|"
             "projecteur|telephone|cellulaire|lights in|light in|exit sign|sign",
     "died|dead|dying|die|dies|fried|crashed|crashing|frozen|froze|black|dark|"
     "blank|burned out|burnt out|blew out|not responding|shutting off|shut off|broken|"
     "out|off|mort|morte|plante|gele|noir|eteint|unresponsive|flickering|flicker|flickers|"
     "glitching|glitchy|acting up|having a seizure|seizure|seizing|fit|choking|chokes|"
     "choked|lagging|stuttering|coughing|wheezing|gasping|bleeding|heart attack|"
     "flatlined|flatlining|life support",
     5, NULL, 0},
    {"spill", EM_S_CLF,
     "spilled|spill|spilt|knocked over|dropped a|a bit wet|little wet|wet spot|sticky|"
     "mop|towel|renverse|fell over|tipped over|drink fell|knocked my|dumped|wiped|"
     "wet patch|cleaned up|cleaned it up|all cleaned|mopped|bottle over|cup over|"
     "drink over|glass over|can over|dropped his|dropped her|dropped my|dropped our|"
     "dropped their|juice box|juicebox|sippy cup",
     NULL, 0, "soaking through|soaked through|pressing|pressure|blood|bleeding", 3},
    {"smell", EM_S_CLF,
     "smells like beer|smells like old|smells bad|stinks|smelly|smells pretty bad|"
     "smells really bad|smells so bad|smells gross|smells awful|smells funky|old food|"
     "air freshener|freshener|smells like feet|smells like sweat|smells like socks|"
     "smells like armpits|smells like a locker room|smells like gym|sent les pieds|"
     "sent les bas",
     NULL, 0, NULL, 0},
    {"minor", EM_S_CLF,
     "dimmed|dim|too bright|too dark|water hazard|hazard|running|clicking|noise|noisy|"
     "loud|broken|needs|need a new|replace|replaced|smoking area|exit sign|empty|out of|"
     "refill|cooler|fountain|dispenser|soap|paper towel*|toilet paper|running low|is low|"
     "fire up|too hot|trop chaud|too cold|trop froid|hole in|has a hole|torn|ripped|draft|"
     "drafty|chilly|kinda cold|cold in here|cold air|stuffy|courant d air|"
     "broke the|broke a|snapped the|bright|headache|tear in|a tear|tears in|small crack|"
     "little crack|still works|still working|works fine|works ok|dented|dent in|scuffed|"
     "in half|snapped one|en deux|scratched|cracked seat|wobbles|wobbly|wobbling|stool|stools|"
     "sauna|like an oven|hot air|heater vent|heat vent|still playable|small tear|crack in",
     NULL, 0, "bleeding|blood|bled|soaking|soaked|through", 3},
};

#define EM_NGUARDS (sizeof(em_guards) / sizeof(em_guards[0]))

/* em_now_ctx - a sign that it is happening now, unless it is "still" owed
 * or asks whether we are still open */
static int
em_now_ctx(const struct em_text *t, size_t p, size_t k, void *arg)
{
	(void)arg;
	if (!(k == 1 && t->len[p] == 5 && memcmp(t->w[p], "still", 5) == 0))
		return 1;
	if (em_list_at(t, EM_STILL_OWED, p + 1) > 0 || em_list_at(t, EM_STILL_ELSE, p + 1) > 0)
		return 0;
	/* ... "is my 7pm still on" asks about the booking too */
	return !(p > 0 &&
	         (em_list_at(t, EM_STILL_ASKER, p - 1) > 0 ||
	          (t->len[p - 1] > 0 && t->w[p - 1][0] >= '0' && t->w[p - 1][0] <= '9')) &&
	         em_list_at(t, EM_STILL_ON, p + 1) > 0);
}

/*
 * em_scopes - the guards that match t: the first one's name in *name, and
 * whether a story or a not-urgent scope holds (each 0 or 1).
 */
/* em_guard_fits - do the guard's unless and with words accept the place it
 * matched? */
static bool
em_guard_fits(const struct em_text *t, size_t p, size_t k, const struct em_guard *g)
{
	if (g->unless != NULL && em_near(t, g->unless, p, p + k - 1, -g->uwin, 1))
		return false;
	return g->with == NULL || em_near(t, g->with, p, p + k - 1, g->win, 1);
}

/* em_guard_ctx - does the guard hold at the place it matched?  A "fine"
 * that is asked ("she's crying but seems ok?") does not (em_asked_ok). */
static int
em_guard_ctx(const struct em_text *t, size_t p, size_t k, void *arg)
{
	const struct em_guard *g = arg;

	return em_guard_fits(t, p, k, g) && !(g->scope == EM_S_SAFE && t->asked[p + k - 1]);
}

/* em_asked_ok - a "fine" asked, not said: "he's crying but seems ok?" */
static int
em_asked_ok(const struct em_text *t, size_t p, size_t k, void *arg)
{
	return em_guard_fits(t, p, k, arg) && t->asked[p + k - 1];
}

static void
em_scopes(const struct em_text *t, const char **name, int *story, int *calm, int *safe, int *unsure)
{
	size_t i;

	*name = NULL;
	*story = *calm = *safe = 0;
	for (i = 0; i < EM_NGUARDS; i++) {
		const struct em_guard *g = &em_guards[i];

		if (!em_each(t, g->any, em_guard_ctx, (void *)(uintptr_t)g))
			continue;
		if (*name == NULL)
			*name = g->name;
		*story |= g->scope == EM_S_STORY;
		*calm |= g->scope == EM_S_CALM;
		*safe |= g->scope == EM_S_SAFE;
	}
	/* A "fine" that is asked makes a sure emergency a possible one, and
	 * never settles that nothing happened. */
	*unsure = 0;
	for (i = 0; i < EM_NGUARDS; i++)
		if (em_guards[i].scope == EM_S_SAFE &&
		    em_each(t, em_guards[i].any, em_asked_ok, (void *)(uintptr_t)&em_guards[i])) {
			*unsure = 1;
			if (*name == NULL)
				*name = em_guards[i].name;
		}
	/* A question about the place ("is the building sprinklered?") is not
	 * a report: only the classifier is held back by it. */
	if (*name == NULL && strchr(t->norm, '?') != NULL)
		*name = "question";
	/* "Say a pipe burst overnight, ...": a supposition opens a clause,
	 * and is no more happening here and now than a story. */
	for (size_t w = 0; w + 1 < t->n; w++)
		if ((w == 0 || t->brk[w]) && t->len[w] == 3 && memcmp(t->w[w], "say", 3) == 0 &&
		    em_list_at(t, EM_SUPPOSED, w + 1) > 0) {
			*story = 1;
			if (*name == NULL)
				*name = "hypothetical";
			break;
		}
}

/* em_count - count a place, look further */
static int
em_count(const struct em_text *t, size_t p, size_t k, void *arg)
{
	(void)t;
	(void)p;
	(void)k;
	++*(size_t *)arg;
	return 0;
}

/*
 * em_lang_counts - the French and the English function words in t: enough
 * to answer a fixed line in the asker's language, no more.
 */
static void
em_lang_counts(const struct em_text *t, size_t *nfr, size_t *nen)
{
	static const char fr[] = "le|la|les|un|une|des|du|est|sont|il|elle|ils|nous|vous|je|j|"
	                         "mon|ma|mes|ton|ta|son|sa|dans|avec|pour|sur|pas|ne|ca|c|qu|"
	                         "au|aux|et|y|a|quelqu|on|de|d|l|s|n|se|tout|plus|tres|moi";
	static const char en[] = "the|a|an|is|are|was|my|his|her|in|and|it|its|he|she|we|you|"
	                         "there|theres|of|to|on|at|this|that|with|for|i|im|not|our|"
	                         "someone|please|help|just";

	*nfr = *nen = 0;
	em_each(t, fr, em_count, nfr);
	em_each(t, en, em_count, nen);
}

/* em_lang - "fr" when French function words outnumber English ones, else "en" */
static const char *
em_lang(const struct em_text *t)
{
	size_t nfr, nen;

	em_lang_counts(t, &nfr, &nen);
	return nfr > nen ? "fr" : "en";
}

/* em_language - see emergency.h */
const char *
em_language(const char *text)
{
	struct em_text *t;
	size_t          nfr = 0, nen = 0;

	if (text == NULL || (t = malloc(sizeof(*t))) == NULL)
		return NULL;
	tn_normalise(text, t->norm, sizeof(t->norm));
	t->n = 0;
	t->used = 0;
	t->pending = false;
	t->end = NULL;
	memset(t->head, -1, sizeof(t->head));
	tn_tokens(t->norm, em_tok_cb, t);
	if (t->n > 0)
		em_lang_counts(t, &nfr, &nen);
	free(t);
	return nfr > nen ? "fr" : nen > nfr ? "en" : NULL;
}

/*
 * Idioms read as what they mean before any rule looks: "as we speak" is
 * "right now", and its "we" is nobody locked out ("we're trying to get
 * in").  Each meaning is no longer than its idiom, so the text is folded
 * in place (the rest padded with spaces).
 */
static const char *const em_idioms[][2] = {
    {"as we speak", "right now"},
    {"as i speak", "right now"},
    {"as we type", "right now"},
    {"as i type", "right now"},
    {"as i write", "right now"},
    {"as we write", "right now"},
    {"comme un malade", "vraiment"},
    {"comme une malade", "vraiment"},
    {"comme des malades", "vraiment"},
    {"comme un fou", "vraiment"},
    {"comme une folle", "vraiment"},
    {"comme des fous", "vraiment"},
    {"en malade", "vraiment"},
    /* turning the power off and on is a restart, not an outage */
    {"turn the power off", "reboot"},
    {"turn the power on", "reboot"},
    {"turn off the power", "reboot"},
    {"turn on the power", "reboot"},
    {"power off and on", "reboot"},
    {"power it off", "reboot"},
    {"cycle the power", "reboot"},
    {"power cycle", "reboot"},
    {"comme un pied", "croche"},
    {"comme une pioche", "croche"},
    {"comme un manche", "croche"},
};

static int
em_word_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\'' ||
	       (unsigned char)c >= 0x80;
}

/* em_fold_idioms - rewrite the idioms of a normalised text in place */
static void
em_fold_idioms(char *norm)
{
	for (size_t i = 0; i < sizeof(em_idioms) / sizeof(em_idioms[0]); i++) {
		size_t fl = strlen(em_idioms[i][0]), tl = strlen(em_idioms[i][1]);
		char  *p = norm;

		while ((p = strstr(p, em_idioms[i][0])) != NULL) {
			if ((p == norm || !em_word_byte(p[-1])) && !em_word_byte(p[fl])) {
				memcpy(p, em_idioms[i][1], tl);
				memset(p + tl, ' ', fl - tl);
			}
			p += fl;
		}
	}
}

/*
 * Rules whose words describe machines too ("unresponsive", "not
 * responding"): held back when the message describes a device that way
 * and names no person (em_device_only).
 */
static const char *const em_device_words[] = {"unresponsive"};

static bool
em_describes_devices(const struct em_rule *r)
{
	for (size_t i = 0; i < sizeof(em_device_words) / sizeof(em_device_words[0]); i++)
		if (strcmp(r->name, em_device_words[i]) == 0)
			return true;
	return false;
}

/*
 * em_device_only - does t describe a device in words that describe people
 * too ("the pc is frozen and totally unresponsive"), with no person named?
 * The device guard (em_guards) reads the first half; EM_PERSON the second.
 */
/* em_guard_holds - does the guard called name match t? */
static int
em_guard_holds(const struct em_text *t, const char *name)
{
	for (size_t i = 0; i < EM_NGUARDS; i++)
		if (strcmp(em_guards[i].name, name) == 0 &&
		    em_each(t, em_guards[i].any, em_guard_ctx, (void *)(uintptr_t)&em_guards[i]))
			return 1;
	return 0;
}

static int
em_device_only(const struct em_text *t)
{
	return em_guard_holds(t, "device") && !em_each(t, EM_PERSON, NULL, NULL);
}

/*
 * Typing in a panic: "hlep brokn pipe", "call an ambulence".  A word one
 * slip away from a word reports are made of is read as that word before
 * any rule looks.  A slip is a letter left out, one typed twice or extra,
 * two neighbours swapped, or (words of five letters or more) one letter
 * typed for another; four-letter words take swaps only, and the first
 * letter is never a slip.  Real words one slip away are never changed: the
 * list was drawn from Debian's wamerican word list ("breath", "flooring",
 * "breeding", "waiter"), and words the rules themselves read are left too.
 */
static const char *const em_typo_targets[] = {
    "help",        "fire",         "smoke",     "flames",   "burning", "sparks",    "alarm",
    "flood",       "flooding",     "flooded",   "water",    "pipe",    "burst",     "broken",
    "leaking",     "pouring",      "gushing",   "bleeding", "blood",   "breathing", "breathe",
    "unconscious", "unresponsive", "collapsed", "seizure",  "choking", "ambulance", "emergency",
    "fainted",     "injured",      "hurt",      "intruder", "weapon",  "knife",     "stabbed",
    "robbery",     "stealing",     "police",    "hurry",    "waking",
};

/* Words of wamerican one slip away from a target (sorted: em_typo_real). */
static const char *const em_typo_reals[] = {
    "alar",      "alarms",   "ambulances", "bleeping", "blending", "blond",     "bloods",
    "bloody",    "bloom",    "breaching",  "breath",   "breathed", "breather",  "breathes",
    "breaths",   "breathy",  "breeding",   "broke",    "broker",   "brood",     "burnt",
    "burping",   "burring",  "burs",       "bursa",    "bursts",   "burt",      "burying",
    "bust",      "chocking", "chowing",    "coking",   "collapse", "collapses", "cooking",
    "emergence", "fainter",  "feinted",    "flakes",   "flambes",  "flame",     "flamed",
    "flamer",    "flamers",  "flares",     "flooder",  "floods",   "floor",     "floored",
    "flooring",  "floyd",    "flumes",     "food",     "frames",   "gashing",   "gusting",
    "harry",     "hurray",   "injure",     "injures",  "insured",  "intrude",   "intruded",
    "intruders", "intrudes", "inured",     "knifed",   "knifes",   "leading",   "leafing",
    "leaning",   "leaping",  "leasing",    "leaving",  "policed",  "polices",   "policy",
    "polite",    "poring",   "pouting",    "robber",   "robbers",  "rubbery",   "scabbed",
    "sealing",   "seizures", "sharks",     "slabbed",  "smoked",   "smoker",    "smokes",
    "smokey",    "smoky",    "smote",      "snarks",   "spanks",   "spares",    "spark",
    "spars",     "spoke",    "stabled",    "staling",  "steaming", "steeling",  "sterling",
    "stoke",     "stubbed",  "swabbed",    "wader",    "wading",   "wafer",     "wager",
    "waging",    "waiter",   "waling",     "walking",  "walter",   "waning",    "wanking",
    "waring",    "waster",   "waters",     "watery",   "waver",    "waving",    "waxing",
    "weapons",
};

static int
em_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* em_one_slip - is tok (n letters) one slip (above) away from w? */
static bool
em_one_slip(const char *tok, size_t n, const char *w)
{
	size_t m = strlen(w), i = 0;

	if (n < 4 || tok[0] != w[0] || (n == m && strncmp(tok, w, n) == 0))
		return false;
	if (n == m) { /* two neighbours swapped, or (five letters or more) one wrong */
		while (i < n && tok[i] == w[i])
			i++;
		if (n >= 5 && i < n && strncmp(tok + i + 1, w + i + 1, n - i - 1) == 0)
			return true;
		return i + 1 < n && tok[i] == w[i + 1] && tok[i + 1] == w[i] &&
		       strncmp(tok + i + 2, w + i + 2, n - i - 2) == 0;
	}
	if (m < 5 || (n + 1 != m && n != m + 1))
		return false;
	{ /* one letter left out (n < m) or one too many (n > m) */
		const char *lo = n < m ? tok : w, *hi = n < m ? w : tok;
		size_t      ln = n < m ? n : m;

		while (i < ln && lo[i] == hi[i])
			i++;
		return strncmp(lo + i, hi + i + 1, ln - i) == 0;
	}
}

/* em_rule_word - is word (n bytes) a term of a rule or a guard? */
static bool
em_rule_word(const char *word, size_t n)
{
	for (size_t i = 0; i < EM_NRULES; i++) {
		const struct em_rule *r = &em_rules[i];

		if (tn_in_terms(r->any, word, n) || tn_in_terms(r->with, word, n) ||
		    tn_in_terms(r->near_not, word, n) || tn_in_terms(r->not, word, n) ||
		    tn_in_terms(r->also, word, n))
			return true;
	}
	for (size_t i = 0; i < EM_NGUARDS; i++)
		if (tn_in_terms(em_guards[i].any, word, n) ||
		    tn_in_terms(em_guards[i].with, word, n))
			return true;
	return false;
}

/* em_typo_fix - the target tok (n bytes) is a slip for, or NULL */
static const char *
em_typo_fix(const char *tok, size_t n)
{
	char        word[24];
	const char *key = word, *fix = NULL;

	if (n < 4 || n >= sizeof(word))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (tok[i] < 'a' || tok[i] > 'z')
			return NULL;
	memcpy(word, tok, n);
	word[n] = '\0';
	for (size_t i = 0; i < sizeof(em_typo_targets) / sizeof(em_typo_targets[0]) && !fix; i++)
		if (em_one_slip(tok, n, em_typo_targets[i]))
			fix = em_typo_targets[i];
	if (fix == NULL ||
	    bsearch(&key, em_typo_reals, sizeof(em_typo_reals) / sizeof(em_typo_reals[0]),
	            sizeof(em_typo_reals[0]), em_cmp_str) != NULL ||
	    em_rule_word(tok, n))
		return NULL;
	return fix;
}

/* em_fix_typos - rewrite the slips of a normalised text (cap bytes) */
static void
em_fix_typos(char *norm, size_t cap)
{
	char   out[EM_MAX_TEXT];
	size_t o = 0;
	bool   changed = false;

	for (const char *p = norm; *p && o + 1 < sizeof(out);) {
		const char *fix;
		size_t      n = 0;

		if (!em_word_byte(*p) || (p > norm && em_word_byte(p[-1]))) {
			out[o++] = *p++;
			continue;
		}
		while (em_word_byte(p[n]))
			n++;
		if ((fix = em_typo_fix(p, n)) != NULL && o + strlen(fix) + 1 < sizeof(out)) {
			memcpy(out + o, fix, strlen(fix));
			o += strlen(fix);
			changed = true;
		} else {
			size_t k = o + n + 1 < sizeof(out) ? n : sizeof(out) - o - 1;

			memcpy(out + o, p, k);
			o += k;
		}
		p += n;
	}
	out[o] = '\0';
	if (changed)
		snprintf(norm, cap, "%s", out);
}

/* em_check_one - the rules' decision on one text (em_check) */
static int
em_check_one(const char *text, em_match *out)
{
	struct em_text t;
	const char    *sure[EM_NSLUGS] = {NULL, NULL, NULL, NULL, NULL};
	const char    *weak[EM_NSLUGS] = {NULL, NULL, NULL, NULL, NULL};
	const char    *poss[EM_NSLUGS] = {NULL, NULL, NULL, NULL, NULL};
	const char   **pick = NULL;
	em_match       m = {NULL, NULL, NULL, "en", EM_NONE};
	size_t         i;
	const char    *held = NULL; /* a rule whose guard held an anchor back */
	int            s, story, calm, safe, unsure, f, device_only = -1;

	if (out)
		*out = m;
	if (text == NULL)
		return EM_NONE;
	tn_normalise(text, t.norm, sizeof(t.norm));
	em_fold_idioms(t.norm);
	em_fix_typos(t.norm, sizeof(t.norm));
	t.n = 0;
	t.used = 0;
	t.pending = false;
	t.end = NULL;
	memset(t.head, -1, sizeof(t.head));
	tn_tokens(t.norm, em_tok_cb, &t);
	if (t.n == 0)
		return EM_NONE;
	for (const char *q = t.end; q != NULL && *q != '\0'; q++)
		if (*q == '?')
			t.asked[t.n - 1] = true;

	for (i = 0; i < EM_NRULES; i++) {
		const struct em_rule *r = &em_rules[i];
		const char          **slot = r->possible ? poss : r->weak ? weak : sure;

		if (slot[r->slug] == NULL && (f = em_rule_fires(r, &t)) != 0) {
			if (f > 0 && em_describes_devices(r)) {
				if (device_only < 0)
					device_only = em_device_only(&t);
				if (device_only)
					f = -1;
			}
			if (f > 0)
				slot[r->slug] = r->name;
			else if (held == NULL)
				held = r->name;
		}
	}
	/* Sure rules first, then the weak ones (which count only alone), then
	 * the possible ones; within each, the most severe kind. */
	for (s = 0; s < EM_NSLUGS && pick == NULL; s++)
		if (sure[s])
			pick = sure;
	/* A word that counts only alone ("911", "au secours") says nothing in
	 * a joke or a figure of speech ("call 911 on my short game"). */
	for (s = 0; s < EM_NSLUGS && pick == NULL; s++)
		if (weak[s])
			pick = weak;
	/* ... nor beside a word the rules looked at and set aside ("call 911,
	 * my scorecard is bleeding"). */
	if (pick == weak &&
	    (held != NULL || em_guard_holds(&t, "joke") || em_guard_holds(&t, "hyperbole")))
		pick = NULL;
	for (s = 0; s < EM_NSLUGS && pick == NULL; s++)
		if (poss[s])
			pick = poss;
	em_scopes(&t, &m.guard, &story, &calm, &safe, &unsure);
	/* A word the rules looked at and set aside ("smoke" from someone's
	 * clothes) is not for the classifier to raise again. */
	if (m.guard == NULL && held != NULL)
		m.guard = "rule-guard";
	m.lang = em_lang(&t);
	if (pick != NULL) {
		for (s = 0; pick[s] == NULL; s++)
			;
		m.slug = em_slugs[s];
		m.rule = pick[s];
		m.level = pick == poss ? EM_POSSIBLE : EM_SURE;
		/* A story is not happening here and now; "not urgent" lowers
		 * the level by one.  Either yields to a sign that it is now. */
		if (safe && (story || calm)) {
			/* "It happened, and everyone is fine now." */
			m.level = EM_NONE;
			m.slug = m.rule = NULL;
		} else if ((story || calm || safe) && !em_each(&t, EM_NOW, em_now_ctx, NULL)) {
			m.level = story ? EM_NONE : m.level - 1;
			if (m.level == EM_NONE)
				m.slug = m.rule = NULL;
		} else if (unsure && m.level == EM_SURE && !em_each(&t, EM_NOW, em_now_ctx, NULL)) {
			m.level = EM_POSSIBLE;
		}
	}
	if (out)
		*out = m;
	return m.level;
}

/*
 * em_check - the rules' decision on a message: none, possible or sure.
 * The scopes read the whole message, so a question asked beside a report
 * lends it its words: "what are your hours on sunday? also there is smoke
 * coming out of the projector" is a story by "on sunday".  A question
 * says nothing about when or where the rest happens, so a message that
 * is not sure as a whole is read again without its questions (the
 * sentences that end in '?'), and the higher level of the two stands.
 */
static int
em_check_asked(const char *text, em_match *out)
{
	em_match m;
	int      level = em_check_one(text, out), again;
	char    *rest;
	size_t   n = 0;
	bool     asked = false;

	if (level == EM_SURE || text == NULL || strchr(text, '?') == NULL)
		return level;
	if ((rest = malloc(strlen(text) + 1)) == NULL)
		return level;
	for (const char *s = text, *p = text;; p++) {
		if (*p != '\0' && strchr("?!.;\n", *p) == NULL)
			continue;
		if (*p == '?') {
			asked = true;
		} else {
			memcpy(rest + n, s, (size_t)(p - s) + (*p != '\0'));
			n += (size_t)(p - s) + (*p != '\0');
		}
		if (*p == '\0')
			break;
		s = p + 1;
	}
	rest[n] = '\0';
	if (asked && n > 0 && (again = em_check_one(rest, &m)) > level) {
		level = again;
		if (out)
			*out = m;
	}
	free(rest);
	return level;
}

/*
 * French read through English.  The French rules are phrases; the English
 * ones know who (EM_PERSON), what is a device, what is a figure of speech
 * and which words must come near an anchor.  So a French message the
 * French rules do not find sure is read once more with its emergency
 * words glossed in English ("il s'est effondre par terre pis y bouge pu"
 * is read as "il collapsed on the floor and y not moving"), and the
 * higher level stands.  Content words are glossed, and people named by a
 * noun ("mon pere", "un gars"), never a bare pronoun ("il" stays: "le
 * simulateur bouge pas, il est gele" names nobody), nor the words of
 * the French scopes (past, hypothetical, jokes), which read the glossed
 * text as they read the original.  A message the French reading set aside
 * (a story, a joke, a guard) is not read again.  Entries are normalised
 * French (tn_normalise: lower case, no accents); the longest match at a
 * word's start wins.
 */
static const char *const em_gloss_fr[][2] = {
    /* people */
    {"quelqu un", "someone"},
    {"quelquun", "someone"},
    {"qqn", "someone"},
    {"un gars", "a guy"},
    {"gars", "guy"},
    {"un homme", "a man"},
    {"homme", "man"},
    {"un type", "a guy"},
    {"monsieur", "man"},
    {"bonhomme", "man"},
    {"une femme", "a woman"},
    {"femme", "woman"},
    {"madame", "woman"},
    {"une dame", "a woman"},
    {"client", "customer"},
    {"cliente", "customer"},
    {"clients", "customers"},
    {"enfant", "kid"},
    {"le petit", "the kid"},
    {"la petite", "the kid"},
    {"mon pere", "my dad"},
    {"ma mere", "my mom"},
    {"mon ami", "my friend"},
    {"mon amie", "my friend"},
    {"mon chum", "my friend"},
    {"ma blonde", "my girlfriend"},
    {"mon oncle", "my uncle"},
    {"ma tante", "my aunt"},
    {"mon fils", "my son"},
    {"ma fille", "my daughter"},
    {"mon frere", "my brother"},
    {"ma soeur", "my sister"},
    {"mon mari", "my husband"},
    {"ma femme", "my wife"},
    {"tout le monde", "everyone"},
    /* the body, and what happens to it */
    {"perdu connaissance", "passed out"},
    {"perd connaissance", "passed out"},
    {"s est effondre", "collapsed"},
    {"s est effondree", "collapsed"},
    {"s est effoire", "collapsed"},
    {"s est effoiree", "collapsed"},
    {"effondre", "collapsed"},
    {"effondree", "collapsed"},
    {"effoire", "collapsed"},
    {"effoiree", "collapsed"},
    {"par terre", "on the floor"},
    {"a terre", "on the floor"},
    {"s est ecrase", "collapsed"},
    {"s est ecrasee", "collapsed"},
    {"repond pas", "not responding"},
    {"repond pu", "not responding"},
    {"repond plus", "not responding"},
    {"reagit pas", "not responding"},
    {"reagit pu", "not responding"},
    {"s est pete la tete", "hit his head"},
    {"pete la tete", "hit his head"},
    {"s est cogne la tete", "hit his head"},
    {"cogne la tete", "hit his head"},
    {"s est ouvert la tete", "split his head open"},
    {"bouge pu", "not moving"},
    {"bouge plus", "not moving"},
    {"bouge pas", "not moving"},
    {"respire pas", "not breathing"},
    {"respire pu", "not breathing"},
    {"respire plus", "not breathing"},
    {"respire mal", "trouble breathing"},
    {"crise d asthme", "asthma attack"},
    {"sa pompe", "his inhaler"},
    {"inconscient", "unconscious"},
    {"inconsciente", "unconscious"},
    {"saigne", "bleeding"},
    {"saignent", "bleeding"},
    {"pisse le sang", "bleeding"},
    {"sang", "blood"},
    {"arrete pas", "wont stop"},
    {"gonfle", "swelling"},
    {"enfle", "swelling"},
    {"gonflee", "swollen"},
    {"enflee", "swollen"},
    {"sa face", "her face"},
    {"la face", "the face"},
    {"dans la face", "in the face"},
    {"en pleine face", "in the face"},
    {"visage", "face"},
    {"gorge", "throat"},
    {"langue", "tongue"},
    {"levres", "lips"},
    {"noix", "nuts"},
    {"arachides", "peanuts"},
    {"pinottes", "peanuts"},
    {"poitrine", "chest"},
    {"bras gauche", "left arm"},
    {"bras", "arm"},
    {"jambe", "leg"},
    {"cheville", "ankle"},
    {"poignet", "wrist"},
    {"la tete", "the head"},
    {"sur la tete", "on the head"},
    {"a la tete", "in the head"},
    {"le front", "the forehead"},
    {"mal au", "pain in the"},
    {"mal a la", "pain in the"},
    {"mal aux", "pain in the"},
    {"douleur a la", "pain in the"},
    {"douleur au", "pain in the"},
    {"douleur dans la", "pain in the"},
    {"douleur dans le", "pain in the"},
    {"s est casse", "broke"},
    {"casse la", "broke the"},
    {"casse le", "broke the"},
    {"l os", "the bone"},
    {"overdose", "overdose"},
    {"surdose", "overdose"},
    {"convulse", "convulsing"},
    {"tremble", "shaking"},
    {"vomit", "vomiting"},
    {"s etouffe", "choking"},
    {"etouffe", "choking"},
    {"blesse", "injured"},
    {"blessee", "injured"},
    {"personne de blesse", "nobody injured"},
    {"personne blesse", "nobody injured"},
    {"personne n est blesse", "nobody injured"},
    {"personne s est blesse", "nobody injured"},
    {"pas de blesse", "nobody injured"},
    {"pas blesse", "not injured"},
    {"pas blessee", "not injured"},
    {"s est fait frapper", "got hit"},
    {"s est pris une balle", "got hit by a ball"},
    {"pogne un coup", "got hit"},
    {"pogne une balle", "got hit by a ball"},
    {"mange une balle", "got hit by a ball"},
    {"pris un coup", "got hit"},
    {"mange un coup", "got hit"},
    {"ricochet", "ricochet hit"},
    {"su a tete", "on the head"},
    {"tout mele", "confused"},
    {"toute mele", "confused"},
    {"tout melee", "confused"},
    {"toute melee", "confused"},
    {"etourdissements", "dizzy"},
    {"etourdissement", "dizzy"},
    {"voit embrouille", "vision went blurry"},
    {"voit flou", "vision went blurry"},
    {"vision embrouillee", "vision went blurry"},
    {"vision floue", "vision went blurry"},
    {"pas capable de reprendre son souffle", "cant catch her breath"},
    {"capable pas de reprendre son souffle", "cant catch her breath"},
    {"reprend pas son souffle", "cant catch her breath"},
    {"pas capable de respirer", "cant breathe"},
    {"capable pas de respirer", "cant breathe"},
    {"manque d air", "cant breathe"},
    {"de la misere a respirer", "trouble breathing"},
    {"virent bleues", "turning blue"},
    {"virent bleu", "turning blue"},
    {"vire bleu", "turning blue"},
    {"vire bleue", "turning blue"},
    {"deviennent bleues", "turning blue"},
    {"sont bleues", "are blue"},
    {"se tient la poitrine", "clutching his chest"},
    {"se tient le coeur", "clutching his chest"},
    {"ca serre", "tightness in his chest"},
    {"bleme", "pale"},
    {"en sueur", "sweating"},
    {"pris une balle", "got hit by a ball"},
    {"sur la tempe", "in the temple"},
    {"dans la tempe", "in the temple"},
    {"voit double", "seeing double"},
    {"frappe", "hit"},
    {"frappee", "hit"},
    /* fire and gas */
    {"en feu", "on fire"},
    {"a pris feu", "caught fire"},
    {"a pris en feu", "caught fire"},
    {"pris en feu", "caught fire"},
    {"pogne en feu", "caught fire"},
    {"pogne feu", "caught fire"},
    {"feu", "fire"},
    {"fumee", "smoke"},
    {"boucane", "smoke"},
    {"flammes", "flames"},
    {"flamme", "flame"},
    {"sent le brule", "smells burning"},
    {"odeur de brule", "burning smell"},
    {"gaz", "gas"},
    {"sent le gaz", "smells of gas"},
    {"pue le gaz", "smells of gas"},
    {"detecteur de fumee", "smoke detector"},
    {"alarme de feu", "fire alarm"},
    {"alarme d incendie", "fire alarm"},
    {"alarme incendie", "fire alarm"},
    /* water */
    {"eau", "water"},
    {"plafond", "ceiling"},
    {"mur", "wall"},
    {"plancher", "floor"},
    {"tuyau", "pipe"},
    {"fuit", "leaking"},
    {"coule", "leaking"},
    {"sort du", "coming out of the"},
    {"sort de", "coming out of"},
    {"deborde", "overflowing"},
    {"inonde", "flooded"},
    {"inondee", "flooded"},
    {"en train de tomber", "collapsing"},
    {"partout", "everywhere"},
    {"en masse", "a lot"},
    /* a threat */
    {"couteau", "knife"},
    {"fusil", "gun"},
    {"pistolet", "gun"},
    {"une arme", "a weapon"},
    {"batte", "bat"},
    {"bouteille cassee", "broken bottle"},
    {"menace", "threatening"},
    {"menacent", "threatening"},
    {"se battent", "fighting"},
    {"se bat", "fighting"},
    {"se tapent dessus", "fighting"},
    {"se pognent", "fighting"},
    {"voleur", "thief"},
    {"entrer de force", "break in"},
    {"defonce la porte", "kicked in the door"},
    {"a defonce la porte", "kicked in the door"},
    {"defonce la vitre", "smashed the window"},
    {"vitre est petee", "smashed the window"},
    {"vitre petee", "smashed the window"},
    {"vitre est cassee", "smashed the window"},
    {"fenetre est cassee", "smashed the window"},
    {"fenetre est petee", "smashed the window"},
    {"en train de rentrer", "trying to get in"},
    {"essaye de rentrer", "trying to get in"},
    {"essayent de rentrer", "trying to get in"},
    {"chu cache", "were hiding"},
    {"je suis cache", "were hiding"},
    {"je me cache", "were hiding"},
    {"on se cache", "were hiding"},
    {"on est caches", "were hiding"},
    {"entre de force", "broke in"},
    {"defonce", "smashing"},
    {"defoncer", "smash"},
    {"crie", "yelling"},
    {"hurle", "yelling"},
    {"saoul", "drunk"},
    {"soul", "drunk"},
    {"ivre", "drunk"},
    /* power */
    {"courant", "power"},
    {"electricite", "power"},
    {"lumieres", "lights"},
    {"dans le noir", "in the dark"},
    {"noir complet", "pitch black"},
    {"noir total", "pitch black"},
    {"s eteindre", "go out"},
    {"s est eteint", "went out"},
    {"tombe noir", "went dark"},
    {"tombe dans le noir", "went dark"},
    {"plus de lumiere", "no lights"},
    {"plus de lumieres", "no lights"},
    {"plus de courant", "no power"},
    {"un peu d eau", "a little water"},
    {"eclabousser", "splashed"},
    {"eclabousse", "splashed"},
    {"pour info", "fyi"},
    {"tout vient de", "everything just"},
    /* now, help */
    {"maintenant", "right now"},
    {"en ce moment", "right now"},
    {"presentement", "right now"},
    {"vite", "hurry"},
    {"aidez moi", "help"},
    {"aidez nous", "help"},
    {"au secours", "help"},
    {"pas de", "no"},
    {"pas d", "no"},
    {"pu d", "no"},
    {"pus d", "no"},
    {"toute la place", "the whole place"},
    /* praise, so that "en feu" stays a compliment */
    {"meilleur en ville", "best in town"},
    {"meilleur", "best"},
    {"meilleure", "best"},
    {"trop bon", "so good"},
    {"trop bonne", "so good"},
    {"genial", "awesome"},
    {"ce soir", "tonight"},
    {"a soir", "tonight"},
    /* devices, kept in French beside the English: the English rules know
     * them as devices, and the French rules' guards still see them */
    {"simulateur", "simulateur simulator"},
    {"ecran", "ecran screen"},
    {"ecrans", "ecrans screens"},
    {"projecteur", "projecteur projector"},
    {"ordi", "ordi computer"},
    {"ordinateur", "ordinateur computer"},
    {"cellulaire", "cellulaire phone"},
    {"telephone", "telephone phone"},
    {"pu de", "no"},
    {"pus de", "no"},
    {"pis", "and"},
    {"a la poitrine", "in the chest"},
    {"tous nous tuer", "kill everyone"},
    {"nous tuer", "kill us"},
    /* a supposition stays one: "si quelqu'un se blesse" */
    {"si quelqu un", "if someone"},
    {"si jamais", "if ever"},
    {"si un", "if a"},
    {"si une", "if a"},
    {"si le", "if the"},
    {"si la", "if the"},
    {"si on", "if we"},
};

#define EM_NGLOSS (sizeof(em_gloss_fr) / sizeof(em_gloss_fr[0]))

/* em_gloss_byte - does c belong to a word (letters, digits, UTF-8; an
 * apostrophe ends one, so "l'eau" glosses "eau")? */
static bool
em_gloss_byte(unsigned char c)
{
	return c != '\'' && em_word_byte((char)c);
}

/* em_gloss_at - does p start with fr's n bytes, an apostrophe in p
 * standing for fr's space ("quelqu'un" = "quelqu un")? */
static bool
em_gloss_at(const char *p, const char *fr, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (p[j] != fr[j] && !(p[j] == '\'' && fr[j] == ' '))
			return false;
	return true;
}

/* em_gloss - text, normalised, with em_gloss_fr's words in English; the
 * number of words glossed */
static size_t
em_gloss(const char *text, char *out, size_t cap)
{
	char   norm[EM_MAX_TEXT];
	size_t o = 0, glossed = 0;

	tn_normalise(text, norm, sizeof(norm));
	for (const char *p = norm; *p != '\0' && o + 1 < cap;) {
		size_t best = 0, bi = 0;

		if ((p == norm || !em_gloss_byte((unsigned char)p[-1])) &&
		    em_gloss_byte((unsigned char)*p))
			for (size_t i = 0; i < EM_NGLOSS; i++) {
				const char *fr = em_gloss_fr[i][0];
				size_t      n;

				if (fr[0] != *p)
					continue;
				n = strlen(fr);
				if (n > best && em_gloss_at(p, fr, n) &&
				    !em_gloss_byte((unsigned char)p[n])) {
					best = n;
					bi = i;
				}
			}
		if (best > 0) {
			size_t n = strlen(em_gloss_fr[bi][1]);

			if (o + n + 1 >= cap)
				break;
			memcpy(out + o, em_gloss_fr[bi][1], n);
			o += n;
			p += best;
			glossed++;
			if (*p == '\'') { /* "pu d'electricite": the elision is glossed too */
				out[o++] = ' ';
				p++;
			}
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return glossed;
}

/*
 * em_check - em_check_asked, and a French message once more through
 * English (em_gloss_fr) unless the first reading is sure or set it aside.
 */
int
em_check(const char *text, em_match *out)
{
	em_match m, g;
	int      level = em_check_asked(text, &m), again;
	char    *glossed;

	if (level < EM_SURE && m.lang != NULL && strcmp(m.lang, "fr") == 0 &&
	    (m.guard == NULL || strcmp(m.guard, "question") == 0) &&
	    (glossed = malloc(EM_MAX_TEXT)) != NULL) {
		if (em_gloss(text, glossed, EM_MAX_TEXT) > 0 &&
		    (again = em_check_asked(glossed, &g)) > level) {
			level = again;
			g.lang = m.lang;
			m = g;
		}
		free(glossed);
	}
	if (out)
		*out = m;
	return level;
}

/* em_fuse - weigh the classifier's vote with the rules' decision */
int
em_fuse(em_match *m, double prob, const char *slug)
{
	int level;

	if (m == NULL)
		return EM_NONE;
	if (m->level == EM_SURE || slug == NULL)
		return m->level;
	if (m->level == EM_POSSIBLE) {
		/* The rules saw something; a confident classifier settles it,
		 * unless the message is a story, a joke or a question. */
		if (m->guard == NULL && prob >= EM_CLF_CONFIRM)
			m->level = EM_SURE;
		return m->level;
	}
	/* The asker's own doubt ("might be nothing") keeps what the classifier
	 * raises to a check: possible, never sure.  Any other guard leaves
	 * the message to the rules. */
	if (m->guard != NULL && strcmp(m->guard, "doubt") != 0)
		return m->level;
	level = prob >= EM_CLF_SURE && m->guard == NULL ? EM_SURE
	        : prob >= EM_CLF_POSSIBLE               ? EM_POSSIBLE
	                                                : EM_NONE;
	if (level > EM_NONE) {
		m->level = level;
		m->slug = slug;
		m->rule = "classifier";
	}
	return m->level;
}
