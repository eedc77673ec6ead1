/*
 * rt_elsewhere.c - a question about another business or place
 *
 * "need to move my dentist appointment", "amazon charged me twice", "my
 * projector at home says no signal": each shares its words with one of
 * our topics (bookings, refunds, the projector) and the classifier, a bag
 * of words, answers it from that topic with high confidence.  What makes
 * it out of scope is whose appointment, charge or projector it is.  So a
 * message is about somewhere else when, with nothing in it naming this
 * venue (a bay, a location, "your place", our booking) except as a
 * landmark ("the pharmacy next door to you"):
 *
 *   owner	another business or service owns a thing one has with it,
 *		right after it, right before it ("la carte-cadeau Simons"),
 *		after its possessive ("the pharmacy's website") or tied to it
 *		by "at", "with", "of", "on" ... within four words ("my dentist
 *		appointment", "membership at costco", "a tee time at the golf
 *		club", "left my umbrella on the ferry"); a business may also
 *		be a name written with a capital, not a sentence's first word,
 *		a guest's or a person's ("my GoodLife membership");
 *		a place is also the owner of what one asks about it, tied
 *		by a link word ("the parking at the hospital"), and of its
 *		opening hours ("is the vet open sunday");
 *   actor	another business, named or capitalised, does something to the
 *		customer ("amazon charged me", "Air Transat a annule mon vol";
 *		"the airline lost my bag" only of a listed one, since a friend
 *		may lose a bag too), or a listed one tells or asks the
 *		customer something ("the salon says I no-showed"), unless it
 *		is one's bank or doctor vouching, our own ("our lawyer says")
 *		or the message asks us something;
 *   home	equipment at home or at work ("my projector at home", "my
 *		laptop at work"), a thing only a home has ("my modem"), or
 *		one's car with what goes wrong with one ("my car battery");
 *   paid	a payment made at another business ("declined at the gas
 *		station");
 *   place	a place named with a capital after "at", "chez" or "au", or a
 *		street ("on Windmill Rd"), that is not ours, unless the message
 *		is shouted in capitals; a kind of business sought ("looking
 *		for a hotel"); a business told of by what one did there ("the
 *		hotel we stayed at").
 *
 *   world	what no venue's SOP answers, whoever is named: work wanted,
 *		the rules of golf, writing or homework asked of us, a hotel
 *		room, the weather, last night's score.
 *
 * A message of several sentences with one question ("We're at Riverside
 * till 9. Is the pharmacy on the corner open late?") is read whole, then,
 * if that says nothing, its question alone: the sentences that only tell
 * (what we did, when we come) name the venue without asking about it.
 *
 * The lists are general knowledge of what people own, book and pay for
 * elsewhere, English and French.  They were not copied from a test set,
 * but the errors of the sets measured before (README, "About somewhere
 * else") had been read when they were written, so only a set written
 * after them measures them.
 * Pure text work: no allocation.  The lists are read once into tables of
 * terms (ew_compile), so a token is checked against a term by its first
 * word's length and letter before any string is compared.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/textnorm.h"
#include "router/rt.h"

#define EW_MAX_TEXT 1024
#define EW_MAX_TOKENS 160
#define EW_TOKEN_MAX 24

/* Other businesses, services and places people deal with. */
static const char ew_others_src[] =
    "dentist|dentists|dental|doctor|doctors|clinic|hospital|pharmacy|physio|physiotherapist|"
    "chiropractor|vet|optometrist|orthodontist|hairdresser|barber|salon|nail salon|spa|gym|"
    "ymca|yoga|pilates|crossfit|school|daycare|university|college|library|bank|credit union|"
    "amazon|costco|walmart|ikea|ebay|netflix|spotify|uber|lyft|doordash|skip the dishes|"
    "airline|air canada|westjet|via rail|hotel|airbnb|restaurant|starbucks|"
    "tim hortons|mcdonalds|grocery store|supermarket|sobeys|loblaws|superstore|"
    "canadian tire|home depot|best buy|gas station|esso|petro canada|shell station|"
    "mechanic|dealership|car wash|insurance company|my insurance|landlord|rogers|telus|"
    "fido|koodo|hockey|minor hockey|soccer|baseball|basketball|football|swimming|"
    "pickleball|tennis|curling|volleyball|badminton|squash|softball|rugby|darts|"
    "locksmith|tims|timmies|timmys|car rental place|car rental places|"
    "dance studio|karate|arena|rink|cinema|movie theatre|movie theater|concert|"
    "golf course|golf club|country club|another course|other course|public course|"
    "terrain de golf|club de golf|bowling|bowling alley|salle de quilles|microsoft teams|"
    "office 365|expedia|trivago|"
    "municipal course|another golf|driving range down|outdoor course|outdoor courses|"
    "outdoor range|outdoor driving range|real course|real courses|driving range out|"
    "range out on|terrain exterieur|champ de pratique|vrai parcours|vrais parcours|vrai terrain|"
    "vrais terrains|parcours exterieur|"
    /* trades and services at home */
    "plumber|electrician|contractor|handyman|roofer|movers|moving company|cleaners|"
    "dry cleaner|tailor|babysitter|nanny|kennel|groomer|dog groomer|property manager|"
    "condo board|tutor|piano teacher|"
    /* health */
    "massage therapist|massage|optician|eye doctor|walk in clinic|urgent care|mri|"
    "blood test|lab|"
    /* phone, internet, power, mail */
    "phone company|internet provider|internet company|cable company|phone provider|"
    "cell provider|provider|hydro|bell|videotron|shaw|virgin|freedom mobile|post office|"
    "canada post|fedex|purolator|ups store|courier|"
    /* shops, going out, travel */
    "mall|cineplex|sport chek|sportchek|staples|simons|shoppers|shoppers drug mart|"
    "jean coutu|pharmaprix|couche tard|dollarama|lululemon|apple store|pub|brewery|"
    "bowling alley|escape room|trampoline park|climbing gym|ski hill|museum|zoo|aquarium|"
    "water park|pool|community centre|community center|rec centre|rec center|"
    "airport|car rental|rental car|motel|hostel|campground|"
    /* French */
    "dentiste|medecin|clinique|hopital|pharmacie|banque|caisse populaire|epicerie|"
    "station service|station d essence|depanneur|resto|garderie|ecole|cegep|hockey mineur|"
    "club de golf|terrain de golf|autre club|autre terrain|plombier|electricien|"
    "entrepreneur|proprio|proprietaire|coiffeur|coiffeuse|salon de coiffure|piscine|"
    "centre sportif|brasserie|salle de quilles|aeroport|postes canada|"
    "fournisseur internet|compagnie de telephone|hydro quebec|veterinaire|veto|"
    "clinique veterinaire|garagiste|mecanicien|compagnie d internet|compagnie de "
    "cellulaire|compagnie de cable|"
    "compagnie d assurance|agence de voyage|"
    /* hotels, airlines, offices */
    "marriott|hilton|holiday inn|best western|sheraton|fairmont|expedia|air transat|"
    "porter|sunwing|flair|delta|travel agent|travel agency|"
    "real estate agent|realtor|leasing office|storage unit|parking garage|"
    /* government offices */
    "cra|canada revenue agency|revenue canada|service canada|service nova scotia|"
    "access nova scotia|serviceontario|service ontario|saaq|revenu quebec|passport office|"
    "registry of motor vehicles|dmv|"
    /* gyms, small trades, getting around, lawyers (our own are "our lawyer") */
    "goodlife|goodlife fitness|planet fitness|anytime fitness|fit4less|econofitness|"
    "energie cardio|cobbler|shoe repair|cordonnier|taxidermist|laundromat|buanderie|laverie|"
    "notary|notaire|lawyer|avocat|accountant|comptable|ferry|traversier|greyhound|"
    "maritime bus|uber eats|ubereats|saq|lcbo|nslc|liquor store|beer store|le garage|"
    "au garage|bus|the bus|transit|halifax transit|metro transit|stm|ttc|oc transpo|"
    "campground|campsite|campsites|provincial park|national park|bowling alley|"
    "parking lot at|impound|golf town|golftown|pga superstore|golf store|golf shop|"
    /* "atm" alone is also "at the moment" ("frozen atm") */
    "sporting goods|an atm|the atm|atm machine|atm nearby|cash machine|bank machine|"
    "guichet automatique|scotiabank|td bank|rbc|bmo|cibc|desjardins|national bank|tangerine|"
    "simplii|topgolf|top golf|axe throwing|axe throwing place|lancer de hache|golf canada|"
    "golf quebec|golf nova scotia|golf new brunswick|golf ontario";

/* When an outdoor place opens ("open yet for the season"). */
static const char ew_season_src[] = "for the season|this season|yet this|open yet|opened yet|"
                                    "cette saison|pour la saison|la saison";

/* What one has with a business: booked, joined, ordered or billed. */
static const char ew_things_src[] =
    "appointment|appointments|appt|appt s|checkup|cleaning|membership|memberships|"
    "subscription|account|order|orders|package|bill|invoice|prescription|reservation|"
    "booking|tee time|tee times|class|classes|lesson|lessons|league|tryouts|registration|"
    "season pass|tickets|ticket|flight|green fee|green fees|policy|loyalty card|points|"
    "gift card|gift cards|gift certificate|gift certificates|voucher|vouchers|deposit|"
    "warranty|session|sessions|visit|ice time|refund|refunds|money back|remboursement|"
    "chargeback|certificat cadeau|cheque cadeau|depot|"
    "promo code|promo|coupon|discount code|code promo|mailing address|address|adresse|"
    "permis|licence|license|passport|passeport|tax return|taxes|impots|party|password|"
    "passwords|mot de passe|login|pin number|"
    "birthday party|year end party|fete|"
    "rendez vous|rdv|abonnement|compte|commande|facture|inscription|cours|ligue|billet|"
    "carte cadeau|billets|vol|depart|departs|reservations|checked baggage|baggage|luggage|"
    "checked bag|carry on|bagages|initiation fee|membership fee|dues";

/* What one asks about a place, tied to it by a link word only ("the
 * parking at the hospital", not "restaurant menus", said in passing). */
static const char ew_asked_src[] =
    "hours|opening hours|price|prices|rates|parking|menu|wifi|wifi password|portal|app|"
    "website|horaire|heures|prix|tarif|tarifs|stationnement|site web";

/* What another business does to a customer. */
static const char ew_acts_src[] =
    "charged|charges|billed|double charged|overcharged|refunded|declined|cancelled|"
    "canceled|shipped|moved|rescheduled|bumped|a charge|m a charge|a refuse|a annule|"
    "m a facture|a deplace|charge for|rembourse|remboursent";

/* What a listed business did to a customer or what it holds: said of a
 * capitalised word these could be a friend's doing ("Jason lost our
 * ball"), so only a listed business is read with them. */
static const char ew_did_src[] =
    "lost|gave away|took|kept|changed the|changed my|changed our|changed "
    "its|expired|refused|refuses|wont refund|wont honour|"
    "wont honor|overbooked|a perdu|ont perdu|m a fait payer|nous a fait payer|a garde|"
    "a change|a refuse|a expire";

/* What one leaves at or signs up with a business, tied to it by a link
 * word ("forgot my coat at the restaurant", "s'inscrire au hockey"). */
static const char ew_left_src[] =
    "forgot|left|lost|oublie|laisse|perdu|register|registered|sign up|signed up|enrol|"
    "join|joining|joined|"
    "enroll|enrolled|inscrire|inscrit|inscrite";

/* A business told of by what one did there ("the hotel we stayed at"). */
static const char ew_went_src[] =
    "we stayed at|i stayed at|we went to|i went to|i go to|we go to|we used|i used|"
    "we booked with|i booked with|we rented from|i rented from|we bought from|"
    "i bought from|we ate at|i ate at|ou on est alle|ou je vais|ou on va";

/* Asked whether another business is open ("is the vet open on sunday"). */
static const char ew_open_src[] =
    "open|opens|opened|closed|closes|closing|ouvert|ouverte|ouverts|ouvre|ferme|fermee|"
    "close tonight|close tonite|close today|close tomorrow|close on|close at|close early|"
    "ferment|walk ins|walk in|walkins|sans rendez vous";

/* What another business tells or asks a customer ("the salon says I
 * no-showed"): about there only while nothing asks us ("my doctor says I
 * can't swing for a month, can I pause my membership") and no "you" is
 * in the message ("the bank says you charged me twice"). */
static const char ew_says_src[] =
    "says|said|wants me|wanted me|wants us|wants my|wants to charge|told me|tells me|"
    "is telling me|is asking|asked me|keeps|kept|wont|will not|never showed|never came|"
    "is offering|is only offering|offered me|offering me|"
    "didnt show|dit|disent|veut que|m a dit|me dit";

/* ... but not one's bank or doctor: "my bank says everything is fine" and
 * "my doctor says no golf for six weeks" come with a question about us. */
static const char ew_vouchers_src[] =
    "bank|credit union|doctor|doctors|physio|physiotherapist|chiropractor|banque|"
    "caisse populaire|medecin";
static const char ew_asks_us_src[] =
    "you|u|ya|vous|can i|can we|could i|could we|may i|is it ok|peux tu|pouvez vous|"
    "est ce que je peux|je peux tu|if were|if we are|are we|were open|we are open";

/* Places of one's own, and the equipment people keep there. */
static const char ew_home_src[] =
    "at home|at my house|at my place|my home|home sim|home simulator|home setup|my own|"
    "in my garage|in my basement|my garage|my basement|my living room|our basement|"
    "our garage|in the garage|in the basement|my apartment|my condo|at the cottage|"
    "my cottage|chez moi|chez nous|a la maison|mon sous sol|mon garage|dans le sous sol|"
    "au chalet|mon appart|mon condo|a maison|at work|at my work|my work|au travail|"
    "at the office|at my office|a la job|a job|apartment building|my building|"
    "mon bloc appartement|mon bloc appart|mon immeuble";
static const char ew_devices_src[] =
    "projector|screen|tv|pc|computer|laptop|simulator|sim|launch monitor|wifi|internet|"
    "router|xbox|playstation|ps5|net|hitting mat|mat|trackman|skytrak|garmin|mevo|"
    "projecteur|ecran|tele|ordi|ordinateur|simulateur|boardroom|meeting room|"
    "conference room|salle de reunion|alarm|alarm system|alarme|systeme d alarme|keypad|"
    "thermostat|serrure|speaker|speakers|sonos|tablet|tablette";
/* Things only a home has: about there on their own ("my peloton screen is
 * frozen", "my modem keeps dropping"). */
static const char ew_home_things_src[] =
    "peloton|my peloton|roku|apple tv|firestick|fire stick|chromecast|alexa|google home|"
    "my xbox|my playstation|my ps5|my ps4|my switch|my nintendo|garage door|porte de garage|"
    "my doorbell|ring doorbell|"
    "my printer|my tv|my smart tv|my television|my modem|my router|my fridge|"
    "my dishwasher|my furnace|my thermostat|my treadmill|ma tele|mon modem|mon imprimante|"
    "mon routeur";
/* What the world outside asks of everyone, on its own ("what's the weather
 * saturday", "contest a parking ticket with the city", "the nearest
 * ATM"): no SOP of a venue answers it. */
static const char ew_world_src[] =
    "whats the weather|what the weather|hows the weather|how the weather|how is the weather|"
    "weather forecast|the forecast|forecast for|weather like|weather going to be|"
    "weather gonna be|quel temps|la meteo|les previsions|parking ticket|speeding ticket|"
    "traffic ticket|city hall|hotel de ville|contravention|constat d infraction|closest atm|"
    "nearest atm|atm near|atm nearby|atm around|closest bank machine|nearest bank machine|"
    "cover my shift|covering my shift|swap shifts|swap my shift|trade shifts|"
    "my dog|our dog|lost dog|lost cat|"
    "my cat|our cat|puppy|mon chien|notre chien|mon chat|going for these days|"
    "a new set of|buy new clubs|buying new clubs|"
    "guichet le plus proche|authenticator|"
    /* weather */
    "supposed to snow|supposed to rain|going to snow|gonna snow|going to rain|gonna rain|"
    "still pouring|still raining|still snowing|pouring out there|raining out there|"
    "snowing out there|forecast looking|forecast for|weather supposed|va neiger|va pleuvoir|"
    "il pleut tu|"
    /* scores, races and news */
    "leafs win|habs win|oilers win|canucks win|jets win|flames win|sens win|raptors win|"
    "jays win|score of the game|the game score|hockey score|score last night|who won the|"
    "who won last night|favourite for the|favorite for the|favourite to win|"
    "favorite to win|betting odds|stanley cup|super bowl|world series|ryder cup|"
    "did you hear about|on the radio|on the news|in the news|"
    "road closure|bridge closed|bridge still closed|a rumour about|a rumor about|"
    /* taxes, money, phone plans */
    "file taxes|file my taxes|do my taxes|doing my own taxes|my own taxes|tax deadline|"
    "deadline to file|write that off|write it off|business expense|income tax|t4|"
    "phone plan|cell plan|data plan|international texting|roaming|forfait cellulaire|"
    "best credit card|which credit card|air miles|aeroplan|"
    /* trivia and the game's records */
    "capital of|trivia question|pga tour record|lowest round ever|how many dimples|"
    /* how to swing: a coach's question, not a venue's */
    "compress the ball|scooping|fix my slice|fix my hook|cure my slice|stop slicing|"
    "stop hooking|custom fitting|club fitting|fitted for clubs|buy used clubs|"
    "sell my old|sell my clubs|trade in my clubs|"
    /* errands of one's own */
    "nexus|passport application|"
    "passport renewal|government form|passcode to my phone|my phone passcode|my phone is locked|"
    "car insurance|home insurance|insurance renewal|the friendship|our friendship|"
    /* what a course or an alley has: a venue taken for another (what a
     * venue may offer one day, a bar's trivia night or a charger for an
     * electric car, is left to its SOPs, so that a new one answers) */
    "power cart|power carts|golf cart|golf carts|pull cart|pull carts|riding cart|"
    "greens punched|greens aerated|"
    "closed for the snow|lanes|bumpers|bowling shoes|rent shoes|shoe rental|"
    "wrong number|is this the number for|"
    "did i text the right|did i text the wrong|"
    "for lease|up for lease|retail space|commercial space";

/* Getting a driving licence ("get your learner's"; a licence shown as ID
 * is a question for us): read before anything naming the venue, since
 * their "your" is anyone's. */
static const char ew_licence_src[] =
    "learner permit|learners permit|get your learner|get my learner|get his learner|"
    "get her learner|learner licence|learners licence|learner license|learners license|"
    "driving test|road test|renew my licence|renew my license|renew my driver|"
    "permis d apprenti|examen de conduite";

/* Work wanted ("are you guys hiring? I'm 19"): no SOP hires, and the
 * "you" that asks it names the venue, so it is read before that too. */
static const char ew_jobs_src[] =
    "are you hiring|you guys hiring|are you guys hiring|you hiring|youre hiring|"
    "harbourview hiring|riverside hiring|hiring right now|looking for work|part time work|"
    "part time job|summer job|job opening|job openings|send my resume|send you my resume|"
    "drop off my resume|drop off a resume|apply for a job|est ce que vous engagez|"
    "vous engagez tu|vous engagez|postuler|job d ete|emploi d ete|emploi a temps partiel|"
    /* ... and help asked of us: volunteering, donations, sponsorship */
    "volunteer|volunteering|community service|benevole|benevolat|donate|donation|donations|"
    "sponsor us|sponsor our|sponsorship|commanditer|commandite|raffle prize|silent auction|"
    "door prize|pick up more shifts|pick up shifts|more shifts|payday|pay day|pay stub|"
    "paystub|paycheque|paycheck|hole sponsor|hole sponsors";

/* Tasks asked of the assistant that no venue's SOP answers ("write us a
 * rap about bay 3", "book us a hotel room"), and simulators of another
 * kind: read before the words that name the venue, which they may use. */
static const char ew_tasks_src[] =
    "write a poem|write me a poem|write us a poem|write a funny poem|a funny poem|"
    "write a rap|write us a rap|write me a rap|write a song|write us a song|a short speech|"
    "write a speech|write me a speech|write a toast|a limerick|a haiku|my essay|an essay on|"
    "essay about|math homework|homework help|help me with my homework|physics assignment|"
    "math assignment|assignment on|translate|traduire|debug|python|excel formula|"
    "linkedin post|cover letter|out of office auto|out of office reply|out of office message|"
    "auto reply|autoreply|code of conduct for|flight simulator|flight sim|pilot licence|"
    "racing sim|racing sims|racing simulator|f1 simulator|f1 sim|vr arcade|an arcade|arcades|"
    "book a flight|book me a flight|plane ticket|plane tickets|"
    "billet d avion|"
    "pilots licence|pilot license|book us a hotel|book me a hotel|book a hotel|"
    "reserve a hotel|book us a room|book me a room|hotels within|hotels near|any hotels|"
    "recommend a hotel|chambre d hotel|"
    /* spam and automated texts sent to the venue's number */
    "click here to claim|update payment at|unpaid duty|parcel is on hold|"
    "package is on hold|verification grant|your business was selected|we do seo|"
    "seo for|processing fees by|janitorial|reply c to confirm|reply y to confirm";

/* The rules of golf ("is it a penalty stroke if your ball moves"): the
 * game's, whatever "your" says, so read before the words that name the
 * venue. */
static const char ew_game_src[] =
    "under the rules of golf|under golf rules|rules of golf|usga|penalty stroke|"
    "penalty strokes|most clubs you|maximum number of clubs|max number of clubs|"
    "reglements du golf|regles du golf";

/* A tee time or a round at a course named by the asker ("book a tee time
 * at glen arbour"): another course, unless what follows is ours, a time
 * or a word that names no place. */
static const char ew_tee_src[] =
    "tee time at|tee times at|tee off at|a round at|round of golf at|green fee at|"
    "green fees at";
static const char ew_tee_ours_src[] =
    "riverside|harbourview|the|your|you|our|my|a|an|this|that|like|around|about|noon|"
    "night|midnight|lunch|dinner|supper|sunrise|sunset|tonight|today|tomorrow|am|pm|one|"
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|quarter|bay|bays|"
    "sim|sims|simulator|home|least|most|some|any|same|it|peak|off|prime|"
    "harbour|harbor|lunchtime|dawn|dusk|first|last|opening|close|closing";

/* A code or a key to a place one stays at ("the door code for the airbnb on
 * Mill St"): read before the words that name this venue, since "door
 * code" would settle it; the building stays ours (the venue is in one). */
static const char ew_key_to_src[] =
    "code for the|code to the|code to my|code for my|code for our|code to our|key to my|"
    "keys to my|key to the|keys to the|key for the|keys for the|key to our|keys to our|"
    "lockbox at|lockbox for|code de l|code du|code de mon|code de notre|cle de l|cles de l|"
    "cle de mon|cles de mon|fob for my|fob to my|porte de mon|porte de notre";
static const char ew_lodging_src[] =
    "airbnb|hotel|motel|hostel|condo|apartment|appartement|appart|cottage|chalet|house|"
    "maison|locker|gym|garage|storage|dorm|residence|rental|vrbo|place on|cabin|bloc appart|"
    "bloc appartement|immeuble";

/* One's car, and what goes wrong with one ("no sound from my car
 * speakers", "mon char veut pas partir"): a car alone may be parked
 * here, so only with one of these within five words. */
static const char ew_car_src[] =
    "my car|my truck|my van|my suv|our car|mon char|mon auto|ma voiture|mon camion|mon truck";
static const char ew_car_things_src[] =
    "speakers|speaker|radio|stereo|bluetooth|battery|engine|tire|tires|oil change|brakes|"
    "transmission|wont start|dealer|mechanic|batterie|demarre pas|veut pas demarrer|"
    "veut pas partir|part pas|pneu|pneus|moteur|freins|garagiste";

/* Asking where to find a kind of business ("looking for a hotel"). */
static const char ew_seek_src[] =
    "looking for a|looking for an|recommend a|recommend an|know a good|know any good|"
    "any good|suggest a|need a good|cherche un|cherche une|connais tu un|connais tu une|"
    "connaissez vous un|connaissez vous une|closest|nearest|le plus proche|la plus proche|"
    "les plus proches";

/* Passing a message to a business ("ask the brewery beside you"), and
 * its hours said right after its name ("post office hours"). */
static const char ew_relay_src[] = "tell the|ask the|text the|remind the";
static const char ew_hours_src[] = "hours|opening hours|horaire|heures d ouverture";

/* Street words after a capitalised name ("the taxidermist on Windmill Rd"). */
static const char ew_street[] =
    "rd|road|st|street|ave|avenue|blvd|boulevard|dr|drive|hwy|highway|lane|way|rue|chemin|"
    "boul|route";

static const char ew_pay_src[] =
    "declined|charged|card|pay|payment|paid|tap|apple pay|google pay|refuse|carte|paye|"
    "debit|guichet";

/* Anything naming this venue settles it: the message is about here. */
static const char ew_here_src[] =
    "bay|bays|clubhouse|harbourview|riverside|your place|your location|your venue|"
    "your spot|your facility|your sim|your sims|here|you guys|yall|our booking|my booking|"
    "our bay|my bay|our session|my session|our tee time|the venue|this place|your booking|"
    "your site|book example golf|running late|run late|be late|late for|running behind|"
    "still come|still get in|come in|get in|our time|my time|door code|front door|"
    "with you|with u|your|missed my|missed our|our bookings|my bookings|charge from you|"
    "charged by you|email from you|text from you|heard from you|from you guys|talk to you|"
    "speak to you|paid to you|sent to you|get to you|come to you|"
    "should we book|can we book|can i book|to book|book a|book us|book for|"
    "baie|baies|chez vous|votre place|ma reservation|notre reservation|en retard|avec vous";

/* Where another place is, said from here ("the Tim Hortons next door to
 * you guys", "the nearest ATM from here"): their "you" and "here" name
 * the venue only as a landmark.  "Do you know if the range out on Route 2
 * is open" asks us about another place: its "you" names no business of
 * ours either. */
static const char ew_near_us_src[] =
    "next door to you guys|next door to you|next to you guys|next to you|"
    "near riverside|around riverside|close to riverside|near harbourview|"
    "around harbourview|close to harbourview|pres de riverside|pres de harbourview|"
    "across from you guys|across from you|across the street from you|near you guys|"
    "near you|beside you|down the street from you|close to you|a cote de chez vous|"
    "pres de chez vous|a cote de vous|en face de chez vous|do you know if|do you guys know if|"
    "would you know if|do you know whether|do you happen to know if|savez vous si|sais tu si|"
    "tu sais tu si|from here|near here|around here|close to here|closest to here|pres d ici|"
    "proche d ici|down the street from harbourview|down the street from riverside|"
    "down the road from harbourview|down the road from riverside|down the road from you|"
    "next door to riverside|next door to harbourview|right next door to|next to yours|"
    "next door to yours|beside yours|like you guys|like you do|"
    "once were done here|once we are done here|when were done here|after were done here|"
    "after our session|after our sim session|after our round|before our session|"
    "before we show up|before we come in|apres notre partie";

/* Things a name's owner has that are ours when the name is a guest's
 * ("Tremblay's booking"): a capitalised name owns none of these. */
static const char ew_guest_things_src[] = "booking|bookings|reservation|session|tee time|bay";

/* Words that tie a thing to the business it is had with. */
static const char ew_links_src[] = "at|with|from|for|of|on|chez|au|a|de|du|aupres|pour|par";

#define EW_MAX_TERMS 512

/* One term of a list: its words, and its first word's length and letter. */
struct ew_term {
	const char *s;
	size_t      len;
	size_t      first_len;
	char        first;
};

/* A list read into terms once, on first use. */
struct ew_list {
	const char    *src;
	size_t         n;
	struct ew_term t[EW_MAX_TERMS];
};

static struct ew_list ew_others = {.src = ew_others_src}, ew_things = {.src = ew_things_src},
                      ew_acts = {.src = ew_acts_src}, ew_home = {.src = ew_home_src},
                      ew_devices = {.src = ew_devices_src}, ew_pay = {.src = ew_pay_src},
                      ew_here = {.src = ew_here_src},
                      ew_guest_things = {.src = ew_guest_things_src},
                      ew_links = {.src = ew_links_src}, ew_says = {.src = ew_says_src},
                      ew_asks_us = {.src = ew_asks_us_src},
                      ew_home_things = {.src = ew_home_things_src},
                      ew_asked = {.src = ew_asked_src}, ew_vouchers = {.src = ew_vouchers_src},
                      ew_did = {.src = ew_did_src}, ew_open = {.src = ew_open_src},
                      ew_left = {.src = ew_left_src}, ew_car = {.src = ew_car_src},
                      ew_car_things = {.src = ew_car_things_src}, ew_seek = {.src = ew_seek_src},
                      ew_went = {.src = ew_went_src}, ew_near_us = {.src = ew_near_us_src},
                      ew_world = {.src = ew_world_src}, ew_licence = {.src = ew_licence_src},
                      ew_jobs = {.src = ew_jobs_src}, ew_game = {.src = ew_game_src},
                      ew_tasks = {.src = ew_tasks_src}, ew_relay = {.src = ew_relay_src},
                      ew_hours = {.src = ew_hours_src}, ew_tee = {.src = ew_tee_src},
                      ew_tee_ours = {.src = ew_tee_ours_src}, ew_key_to = {.src = ew_key_to_src},
                      ew_lodging = {.src = ew_lodging_src}, ew_season = {.src = ew_season_src};
static pthread_once_t ew_once = PTHREAD_ONCE_INIT;

/* ew_read - split l's source at '|' into terms; a list longer than the
 * table is a mistake in this file, stopped at once */
static void
ew_read(struct ew_list *l)
{
	for (const char *s = l->src; *s;) {
		const char *e = strchr(s, '|');
		size_t      tl = e ? (size_t)(e - s) : strlen(s);

		if (tl > 0) {
			const char *sp = memchr(s, ' ', tl);

			if (l->n == EW_MAX_TERMS) {
				fprintf(stderr, "rt_elsewhere: a list has over %d terms\n",
				        EW_MAX_TERMS);
				abort();
			}
			l->t[l->n++] = (struct ew_term){s, tl, sp ? (size_t)(sp - s) : tl, s[0]};
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
}

static void
ew_read_all(void)
{
	struct ew_list *all[] = {
	    &ew_others,  &ew_things,      &ew_acts,         &ew_home,       &ew_devices,
	    &ew_pay,     &ew_here,        &ew_guest_things, &ew_links,      &ew_says,
	    &ew_asks_us, &ew_home_things, &ew_asked,        &ew_vouchers,   &ew_did,
	    &ew_open,    &ew_left,        &ew_car,          &ew_car_things, &ew_seek,
	    &ew_went,    &ew_near_us,     &ew_world,        &ew_licence,    &ew_season,
	    &ew_tee,     &ew_tee_ours,    &ew_key_to,       &ew_lodging,    &ew_jobs,
	    &ew_game,    &ew_tasks,       &ew_relay,        &ew_hours};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		ew_read(all[i]);
}

struct ew_text {
	char   buf[EW_MAX_TEXT];
	char   tok[EW_MAX_TOKENS][EW_TOKEN_MAX];
	size_t len[EW_MAX_TOKENS];
	bool   poss[EW_MAX_TOKENS]; /* the word was a possessive ("company's") */
	size_t n;
	char   brand[8][EW_TOKEN_MAX]; /* names written with a capital (ew_brands) */
	bool   brand_first[8];         /* ... the first word of a sentence */
	size_t nbrand;
};

/* French elisions: "l'hopital", "m'a", "qu'il" are two words each. */
static const char ew_elided[] = "l|d|j|m|t|s|n|c|qu|jusqu|lorsqu|puisqu";

/* Words whose "'s" is "is" or "us", not a possessive. */
static const char ew_not_poss[] = "here|there|that|what|who|where|when|how|let|it|he|she|"
                                  "everyone|someone|nobody|everything|something|nothing";

/* ew_push - keep one token: a French elision split in two ("m'a" = "m a"),
 * a possessive without its "'s" and marked ("company's" = "company"), any
 * other apostrophe dropped ("won't" = "wont") */
static void
ew_push(const char *tok, size_t len, void *arg)
{
	struct ew_text *t = arg;
	const char     *ap = memchr(tok, '\'', len);
	size_t          o = 0;

	if (ap != NULL && ap > tok && tn_in_terms(ew_elided, tok, (size_t)(ap - tok))) {
		ew_push(tok, (size_t)(ap - tok), arg);
		ew_push(ap + 1, len - (size_t)(ap - tok) - 1, arg);
		return;
	}
	if (t->n >= EW_MAX_TOKENS)
		return;
	t->poss[t->n] = ap != NULL && ap + 2 == tok + len && ap[1] == 's' && ap - tok >= 3 &&
	                !tn_in_terms(ew_not_poss, tok, (size_t)(ap - tok));
	if (t->poss[t->n])
		len = (size_t)(ap - tok);
	for (size_t i = 0; i < len && o + 1 < EW_TOKEN_MAX; i++)
		if (tok[i] != '\'')
			t->tok[t->n][o++] = tok[i];
	t->tok[t->n][o] = '\0';
	t->len[t->n] = o;
	if (o > 0)
		t->n++;
}

/* ew_at - words of the phrase (len bytes, words split by spaces) matched
 * at token i, or 0 */
static size_t
ew_at(const struct ew_text *t, size_t i, const char *phrase, size_t len)
{
	size_t k = 0;

	while (len > 0) {
		const char *sp = memchr(phrase, ' ', len);
		size_t      wl = sp ? (size_t)(sp - phrase) : len;

		if (i + k >= t->n || t->len[i + k] != wl || memcmp(t->tok[i + k], phrase, wl) != 0)
			return 0;
		k++;
		if (sp == NULL)
			break;
		len -= wl + 1;
		phrase = sp + 1;
	}
	return k;
}

/* ew_list_at - words of the longest term of l matched at token i, or 0
 * ("salon de coiffure", not "salon") */
static size_t
ew_list_at(const struct ew_text *t, size_t i, const struct ew_list *l)
{
	size_t best = 0;

	if (i >= t->n)
		return 0;
	for (size_t j = 0; j < l->n; j++) {
		const struct ew_term *m = &l->t[j];
		size_t                k;

		if (m->first_len == t->len[i] && m->first == t->tok[i][0] &&
		    (k = ew_at(t, i, m->s, m->len)) > best)
			best = k;
	}
	return best;
}

/* ew_near - does a term of l start in [lo, hi] (clamped)? its index or -1 */
static long
ew_near(const struct ew_text *t, const struct ew_list *l, long lo, long hi)
{
	if (lo < 0)
		lo = 0;
	for (long q = lo; q <= hi && q < (long)t->n; q++)
		if (ew_list_at(t, (size_t)q, l) > 0)
			return q;
	return -1;
}

/* ew_alpha - is token i a word of letters only (no time, no number)? */
static bool
ew_alpha(const struct ew_text *t, size_t i)
{
	for (size_t c = 0; c < t->len[i]; c++)
		if (t->tok[i][c] < 'a' || t->tok[i][c] > 'z')
			return false;
	return t->len[i] > 1;
}

/* ew_outside_landmark - does a term of l stand outside the phrases that
 * use the venue only as a landmark ("next door to you guys")? */
static bool
ew_outside_landmark(const struct ew_text *t, const struct ew_list *l)
{
	size_t skip_to = 0, k;

	for (size_t i = 0; i < t->n; i++) {
		if ((k = ew_list_at(t, i, &ew_near_us)) > 0 && i + k > skip_to)
			skip_to = i + k;
		if (i >= skip_to && ew_list_at(t, i, l) > 0)
			return true;
	}
	return false;
}

/* ew_thing_of - a thing (or a word of leaving or joining) starting at
 * most four words before the business at token i, tied to it by a link
 * word between ("membership at costco"), or five words before with the
 * link right after it ("ice time at the community rink"); or a word of
 * leaving or joining at most six words before, a link between ("left my
 * scarf at the pharmacy"): its first token, or -1 */
static long
ew_thing_of(const struct ew_text *t, size_t i)
{
	for (long q = (long)i - 2; q >= 0 && q >= (long)i - 6; q--) {
		size_t k = ew_list_at(t, (size_t)q, &ew_left);

		if (k == 0 || q + (long)k >= (long)i)
			continue;
		for (long l = q + (long)k; l < (long)i; l++)
			if (ew_list_at(t, (size_t)l, &ew_links) > 0)
				return q;
	}
	for (long q = (long)i - 2; q >= 0 && q >= (long)i - 5; q--) {
		size_t k = ew_list_at(t, (size_t)q, &ew_things);

		if (k == 0)
			k = ew_list_at(t, (size_t)q, &ew_asked);

		if (k == 0 || q + (long)k >= (long)i)
			continue;
		/* five words off, the link must follow the thing at once */
		long end = q < (long)i - 4 ? q + (long)k + 1 : (long)i;

		for (long l = q + (long)k; l < end; l++)
			if (ew_list_at(t, (size_t)l, &ew_links) > 0)
				return q;
	}
	return -1;
}

/* ew_span - the words from token a to b, in why (cap bytes) */
static void
ew_span(const struct ew_text *t, size_t a, size_t b, char *why, size_t cap)
{
	size_t o = 0;

	if (why == NULL || cap == 0)
		return;
	why[0] = '\0';
	for (size_t i = a; i <= b && i < t->n; i++) {
		int w = snprintf(why + o, cap - o, "%s%s", i > a ? " " : "", t->tok[i]);

		if (w < 0 || (size_t)w >= cap - o)
			break;
		o += (size_t)w;
	}
}

/* Capitalised words that name no other business: ours, times, words that
 * start sentences, and the cards a customer pays us with. */
static const char ew_ours[] =
    "harbourview|riverside|clubhouse|club|trackman|harbour|mill|bay|my|the|a|an|i|we|you|"
    /* the simulator PCs' own software */
    "windows|microsoft|steam|gspro|nvidia|qr|pc|tv|ac|id|pin|usb|hdmi|ipad|"
    "they|he|she|it|this|that|our|his|her|their|your|can|could|is|are|do|does|did|"
    "what|when|where|why|how|who|hi|hey|hello|thanks|please|ok|je|j|tu|il|elle|on|nous|"
    "vous|ils|mon|ma|mes|le|la|les|est|c|ca|bonjour|salut|allo|merci|"
    /* people, never a business */
    "customer|customers|guest|guests|client|clients|cliente|member|members|membre|staff|"
    "someone|somebody|guy|lady|man|woman|player|players|friend|buddy|wife|husband|mom|"
    "dad|son|daughter|kid|kids|monsieur|madame|"
    /* how a customer pays us: a card's name is no other business */
    "visa|mastercard|amex|american|express|interac|debit|credit|paypal|apple|google|"
    "samsung|pay|monday|tuesday|wednesday|"
    "thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|"
    "september|october|november|december|christmas|easter|thanksgiving|noon|midnight|lundi|"
    "mardi|mercredi|jeudi|vendredi|samedi|dimanche|janvier|fevrier|mars|avril|mai|juin|"
    "juillet|aout|septembre|octobre|novembre|decembre|noel|paques|i|am|pm";

/* Words before "at" that make what follows a course the simulator plays. */
static const char ew_considered[] = "looking|look|looked|looks|considering";
static const char ew_played[] = "round|rounds|play|playing|played|course|hole|holes|game";

/* Words before "at" that say where the asker works or studies ("I work
 * at Sobeys", "I'm a student at Dal"): who asks, not what is asked about,
 * when "I" or "we" says them.  "I'm at Dal" is the same, but "I'm at the
 * Holiday Inn" is where the asker is, with a question about there. */
static const char ew_self_at[] = "work|working|study|studying|student|teach|teacher|nurse|"
                                 "job|intern|volunteer";
static const char ew_self_am[] = "im|m|am";
static const char ew_self_who[] = "i|im|m|we|am";

static bool ew_word_in(const unsigned char *w, size_t n, const char *list);

/* ew_self_at_place - do the raw words before "at" (word i) tell where the
 * asker works or studies, so that the place after it is not asked about? */
static bool
ew_self_at_place(const unsigned char *const *w, const size_t *wl, size_t n, size_t i)
{
	if (i == 0)
		return false;
	if (ew_word_in(w[i - 1], wl[i - 1], ew_self_am))
		return i + 1 < n &&
		       !(wl[i + 1] == 3 && strncasecmp((const char *)w[i + 1], "the", 3) == 0);
	if (!ew_word_in(w[i - 1], wl[i - 1], ew_self_at))
		return false;
	for (size_t j = i - 1; j-- > 0 && j + 5 >= i;)
		if (ew_word_in(w[j], wl[j], ew_self_who))
			return true;
	return false;
}

/* ew_word_in - is the raw word (n bytes) one of list's terms, any case? */
static bool
ew_word_in(const unsigned char *w, size_t n, const char *list)
{
	char low[EW_TOKEN_MAX];

	if (n >= sizeof(low))
		return false;
	for (size_t i = 0; i < n; i++)
		low[i] = (char)tolower(w[i]);
	low[n] = '\0';
	return tn_in_terms(list, low, strlen(low));
}

/* Words after which a capitalised word is a person ("booking under Chen"). */
static const char ew_person_cues[] =
    "under|for|named|called|guest|customer|mr|mrs|ms|dr|with|to|tell|ask|asked|from|sous|"
    "pour|nom|de|up";

/* ew_brands - the words of msg written with a capital that may name a
 * business ("my GoodLife membership", "Videotron m'a charge"): not ours,
 * not a day or a month, not a person by its cue, not a message shouted
 * in capitals; their normalised forms, in t->brand */
static void ew_brands(const char *msg, struct ew_text *t);

/* ew_shouted - is msg written mostly in capitals (or has no letters)?
 * Then its capitals say nothing about names. */
static bool
ew_shouted(const char *msg)
{
	size_t upper = 0, letters = 0;

	for (const unsigned char *q = (const unsigned char *)msg; *q; q++)
		if (isalpha(*q))
			letters++, upper += isupper(*q) != 0;
	return letters == 0 || upper * 2 > letters;
}

/* ew_upper_at - does the word at s start with a capital (ASCII, or
 * Latin-1's A-grave .. Y-acute in UTF-8)? */
static bool
ew_upper_at(const unsigned char *s)
{
	return (s[0] >= 'A' && s[0] <= 'Z') || (s[0] == 0xC3 && s[1] >= 0x80 && s[1] <= 0x9D);
}

/* ew_named_place - a place named with a capital after "at" / "chez" /
 * "au", not ours (see the top); its name in why, or false */
static bool
ew_named_place(const char *msg, char *why, size_t cap)
{
	const unsigned char *p = (const unsigned char *)msg;
	const unsigned char *w[EW_MAX_TOKENS];
	size_t               wl[EW_MAX_TOKENS], n = 0;

	/* The raw words: runs of letters and UTF-8 bytes. */
	while (*p && n < EW_MAX_TOKENS) {
		size_t l = 0;

		while (p[l] && (isalpha(p[l]) || p[l] >= 0x80))
			l++;
		if (l > 0) {
			w[n] = p;
			wl[n++] = l;
			p += l;
		} else {
			p++;
		}
	}
	for (size_t i = 0; i + 1 < n; i++) {
		static const char *const links[] = {"at", "chez", "au", "aux"};
		static const char *const articles[] = {"the", "le", "la", "les", "l"};
		bool                     link = false;
		size_t                   j = i + 1;
		char                     low[EW_TOKEN_MAX];

		for (size_t k = 0; k < sizeof(links) / sizeof(links[0]) && !link; k++)
			link = wl[i] == strlen(links[k]) &&
			       strncasecmp((const char *)w[i], links[k], wl[i]) == 0;
		/* "on Windmill Rd": a street, when a street word follows the name */
		if (!link && wl[i] == 2 && strncasecmp((const char *)w[i], "on", 2) == 0 &&
		    i + 2 < n && ew_upper_at(w[i + 1]) &&
		    (ew_word_in(w[i + 2], wl[i + 2], ew_street) ||
		     (i + 3 < n && ew_upper_at(w[i + 2]) &&
		      ew_word_in(w[i + 3], wl[i + 3], ew_street))))
			link = true;
		/* "our round at Pebble Beach": a course the simulator plays;
		 * "still looking at Dartmouth": a place considered, not visited */
		if (!link || (i > 0 && ew_word_in(w[i - 1], wl[i - 1], ew_played)) ||
		    (i > 0 && ew_word_in(w[i - 1], wl[i - 1], ew_considered)) ||
		    ew_self_at_place(w, wl, n, i))
			continue;
		for (size_t k = 0; k < sizeof(articles) / sizeof(articles[0]) && j + 1 < n; k++)
			if (wl[j] == strlen(articles[k]) &&
			    strncasecmp((const char *)w[j], articles[k], wl[j]) == 0) {
				j++;
				break;
			}
		if (!ew_upper_at(w[j]) || wl[j] >= sizeof(low))
			continue;
		tn_normalise((const char *)w[j], low,
		             wl[j] + 1 < sizeof(low) ? wl[j] + 1 : sizeof(low));
		if (tn_in_terms(ew_ours, low, strlen(low)))
			continue;
		if (why != NULL && cap > 0)
			snprintf(why, cap, "%.*s %.*s", (int)wl[i], (const char *)w[i], (int)wl[j],
			         (const char *)w[j]);
		return true;
	}
	return false;
}

static void
ew_brands(const char *msg, struct ew_text *t)
{
	const unsigned char *p = (const unsigned char *)msg, *prev = NULL;
	size_t               prevl = 0;
	bool                 person = false; /* the word before was a person's name */

	t->nbrand = 0;
	while (*p) {
		size_t l = 0;

		while (p[l] && (isalpha(p[l]) || p[l] >= 0x80 || p[l] == '\''))
			l++;
		if (l == 0) {
			p++;
			continue;
		}
		const unsigned char *b = p;

		while (b > (const unsigned char *)msg && (b[-1] == ' ' || b[-1] == '"'))
			b--;
		/* "for Sarah Lindqvist's account": a capital right after a
		 * name a cue gave is its surname, no business either */
		bool named = ew_upper_at(p) && prev != NULL &&
		             (person || ew_word_in(prev, prevl, ew_person_cues)) &&
		             prev + prevl + 1 == p;

		if (ew_upper_at(p) && l < EW_TOKEN_MAX && t->nbrand < 8 && !named) {
			char   low[EW_TOKEN_MAX];
			size_t o = 0;

			tn_normalise((const char *)p, low, l + 1);
			for (size_t i = 0; low[i]; i++)
				if (low[i] != '\'')
					low[o++] = low[i];
			low[o] = '\0';
			/* "Tim's": the name without its possessive */
			if (o > 2 && low[o - 1] == 's' && memchr(p, '\'', l) != NULL)
				low[o - 1] = '\0';
			if (o > 1 && !tn_in_terms(ew_ours, low, strlen(low))) {
				t->brand_first[t->nbrand] = b == (const unsigned char *)msg ||
				                            strchr(".!?\n", b[-1]) != NULL;
				snprintf(t->brand[t->nbrand++], EW_TOKEN_MAX, "%s", low);
			}
		}
		person = named;
		prev = p;
		prevl = l;
		p += l;
	}
}

/* ew_is_brand - is token i one of t's capitalised names?  1 yes, 2 yes and
 * it starts a sentence (a capital that may say nothing), 0 no */
static int
ew_is_brand(const struct ew_text *t, size_t i)
{
	for (size_t b = 0; b < t->nbrand; b++)
		if (strcmp(t->tok[i], t->brand[b]) == 0)
			return t->brand_first[b] ? 2 : 1;
	return 0;
}

/* ew_check - is msg, read whole, about somewhere else (rt_elsewhere) */
static const char *
ew_check(const char *msg, char *why, size_t cap)
{
	struct ew_text t;
	size_t         k;
	int            brand, asks_us = -1; /* -1: not looked for yet */

	if (msg == NULL)
		return NULL;
	pthread_once(&ew_once, ew_read_all);
	tn_normalise(msg, t.buf, sizeof(t.buf));
	t.n = 0;
	tn_tokens(t.buf, ew_push, &t);
	/* "the age to get your learner's": a licence is the province's,
	 * whatever "your" says; so are work wanted, help asked of us and the
	 * rules of golf ("are you guys hiring?") */
	for (size_t i = 0; i < t.n; i++)
		if ((k = ew_list_at(&t, i, &ew_licence)) > 0 ||
		    (k = ew_list_at(&t, i, &ew_jobs)) > 0 ||
		    (k = ew_list_at(&t, i, &ew_game)) > 0 ||
		    (k = ew_list_at(&t, i, &ew_tasks)) > 0) {
			ew_span(&t, i, i + k - 1, why, cap);
			return "world";
		}
	/* Read before the words that name this venue: a tee time at a course
	 * named by the asker, a code or a key to a place one stays at. */
	for (size_t i = 0; i < t.n; i++) {
		long q;

		if ((k = ew_list_at(&t, i, &ew_tee)) > 0 && i + k < t.n &&
		    ew_list_at(&t, i + k, &ew_tee_ours) == 0 && ew_alpha(&t, i + k)) {
			ew_span(&t, i, i + k, why, cap);
			return "place";
		}
		if ((k = ew_list_at(&t, i, &ew_key_to)) > 0 &&
		    (q = ew_near(&t, &ew_lodging, (long)(i + k), (long)(i + k) + 1)) >= 0) {
			ew_span(&t, i, (size_t)q, why, cap);
			return "home";
		}
	}
	if (ew_outside_landmark(&t, &ew_here))
		return NULL;
	t.nbrand = 0;
	if (!ew_shouted(msg)) { /* capitals name places and businesses */
		if (ew_named_place(msg, why, cap))
			return "place";
		ew_brands(msg, &t);
	}
	for (size_t i = 0; i < t.n; i++) {
		long q;

		/* A capitalised name owning a thing or charging for one. */
		if ((brand = ew_is_brand(&t, i)) != 0) {
			/* A sentence's first word owns nothing by its capital. */
			if (brand == 1 &&
			    (q = ew_near(&t, &ew_things, (long)i + 1, (long)i + 2)) >= 0 &&
			    ew_list_at(&t, (size_t)q, &ew_guest_things) == 0) {
				ew_span(&t, i, (size_t)q, why, cap);
				return "owner";
			}
			if ((q = ew_near(&t, &ew_acts, (long)i + 1, (long)i + 2)) >= 0) {
				ew_span(&t, i, (size_t)q, why, cap);
				return "actor";
			}
			/* "Glen Arbour's course is open yet for the season": a
			 * season's opening is an outdoor place's, not ours */
			if (brand == 1 &&
			    (q = ew_near(&t, &ew_open, (long)i + 1, (long)i + 5)) >= 0 &&
			    ew_near(&t, &ew_season, 0, (long)t.n - 1) >= 0) {
				if (asks_us < 0)
					asks_us = ew_outside_landmark(&t, &ew_asks_us);
				if (!asks_us) {
					ew_span(&t, i, (size_t)q, why, cap);
					return "owner";
				}
			}
		}

		if ((k = ew_list_at(&t, i, &ew_home)) > 0 &&
		    (q = ew_near(&t, &ew_devices, (long)i - 6, (long)(i + k) + 6)) >= 0) {
			ew_span(&t, q < (long)i ? (size_t)q : i,
			        q < (long)i ? i + k - 1 : (size_t)q, why, cap);
			return "home";
		}
		if ((k = ew_list_at(&t, i, &ew_car)) > 0 &&
		    (q = ew_near(&t, &ew_car_things, (long)i - 5, (long)(i + k) + 5)) >= 0) {
			ew_span(&t, q < (long)i ? (size_t)q : i,
			        q < (long)i ? i + k - 1 : (size_t)q, why, cap);
			return "home";
		}
		if ((k = ew_list_at(&t, i, &ew_home_things)) > 0) {
			ew_span(&t, i, i + k - 1, why, cap); /* "my peloton" */
			return "home";
		}
		if ((k = ew_list_at(&t, i, &ew_world)) > 0) {
			ew_span(&t, i, i + k - 1, why, cap); /* "what's the weather" */
			return "world";
		}
		if ((k = ew_list_at(&t, i, &ew_others)) == 0)
			continue;
		/* "can you tell the restaurant next door to stay open": a
		 * message for another business, passed on by us */
		if (i >= 2 && ew_list_at(&t, i - 2, &ew_relay) == 2) {
			ew_span(&t, i - 2, i + k - 1, why, cap);
			return "place";
		}
		/* "post office hours on saturday?" */
		if (i + k < t.n && ew_list_at(&t, i + k, &ew_hours) > 0) {
			ew_span(&t, i, i + k, why, cap);
			return "owner";
		}
		if ((q = ew_near(&t, &ew_seek, (long)i - 4, (long)i - 1)) >= 0) {
			ew_span(&t, (size_t)q, i + k - 1, why, cap); /* "looking for a hotel" */
			return "place";
		}
		if ((q = ew_near(&t, &ew_things, (long)(i + k), (long)(i + k) + 1)) >= 0) {
			ew_span(&t, i, (size_t)q, why, cap); /* "my dentist appointment" */
			return "owner";
		}
		/* "la carte-cadeau Simons": the owner right after its thing */
		if (i > 0 && (q = ew_near(&t, &ew_things, (long)i - 3, (long)i - 1)) >= 0 &&
		    q + (long)ew_list_at(&t, (size_t)q, &ew_things) == (long)i) {
			ew_span(&t, (size_t)q, i + k - 1, why, cap);
			return "owner";
		}
		if ((q = ew_thing_of(&t, i)) >= 0) {
			ew_span(&t, (size_t)q, i + k - 1, why,
			        cap); /* "a tee time at the golf club" */
			return "owner";
		}
		/* "my phone company's app": a possessive ties what follows */
		if (t.poss[i + k - 1] &&
		    ((q = ew_near(&t, &ew_asked, (long)(i + k), (long)(i + k) + 1)) >= 0 ||
		     (q = ew_near(&t, &ew_things, (long)(i + k), (long)(i + k) + 1)) >= 0)) {
			ew_span(&t, i, (size_t)q, why, cap);
			return "owner";
		}
		if ((q = ew_near(&t, &ew_acts, (long)(i + k), (long)(i + k) + 1)) >= 0 ||
		    (q = ew_near(&t, &ew_did, (long)(i + k), (long)(i + k) + 1)) >= 0) {
			ew_span(&t, i, (size_t)q, why, cap);
			return "actor";
		}
		if ((q = ew_near(&t, &ew_went, (long)(i + k), (long)(i + k) + 1)) >= 0) {
			ew_span(&t, i, (size_t)q, why, cap); /* "the hotel we stayed at" */
			return "place";
		}
		if ((q = ew_near(&t, &ew_open, (long)(i + k), (long)(i + k) + 9)) >= 0) {
			if (asks_us < 0)
				asks_us = ew_outside_landmark(&t, &ew_asks_us);
			if (!asks_us) {
				ew_span(&t, i, (size_t)q, why, cap); /* "the vet open on sunday" */
				return "owner";
			}
		}
		/* "our accountant is asking": the venue's own, in staff's words */
		if (ew_list_at(&t, i, &ew_vouchers) == 0 &&
		    (i == 0 || !ew_at(&t, i - 1, "our", 3)) &&
		    (q = ew_near(&t, &ew_says, (long)(i + k), (long)(i + k) + 1)) >= 0) {
			if (asks_us < 0)
				asks_us = ew_outside_landmark(&t, &ew_asks_us);
			if (!asks_us) {
				ew_span(&t, i, (size_t)q, why, cap); /* "the salon says" */
				return "actor";
			}
		}
		if (i > 0 &&
		    (ew_at(&t, i - 1, "at", 2) || ew_at(&t, i - 1, "the", 3) ||
		     ew_at(&t, i - 1, "a", 1) || ew_at(&t, i - 1, "la", 2) ||
		     ew_at(&t, i - 1, "au", 2)) &&
		    ew_near(&t, &ew_pay, (long)i - 5, (long)i - 1) >= 0) {
			ew_span(&t, i, i + k - 1, why, cap);
			return "paid";
		}
	}
	return NULL;
}

/*
 * ew_the_question - the one sentence of msg that asks (ends in '?'), in
 * out, when msg has other sentences that ask nothing: "Random, but is the
 * mall open late tonight? I need a present once we're done here."  The
 * venue named in a sentence that only tells (what we did, when we come)
 * does not make the question about here.  False when no sentence, or more
 * than one, asks.
 */
static bool
ew_the_question(const char *msg, char *out, size_t cap)
{
	const char *q = NULL, *qend = NULL, *s = msg;
	bool        other = false;

	for (const char *p = msg;; p++) {
		if (*p != '\0' && strchr("?!.\n", *p) == NULL)
			continue;
		bool words = false;

		for (const char *c = s; c < p && !words; c++)
			words = isalpha((unsigned char)*c) || (unsigned char)*c >= 0x80;
		if (words && *p == '?') {
			if (q != NULL)
				return false; /* two questions: which one is the message? */
			q = s;
			qend = p;
		} else if (words) {
			other = true;
		}
		if (*p == '\0')
			break;
		s = p + 1;
	}
	if (q == NULL || !other || (size_t)(qend - q) + 1 >= cap)
		return false;
	memcpy(out, q, (size_t)(qend - q));
	out[qend - q] = '\0';
	return true;
}

/* rt_elsewhere - see rt.h */
const char *
rt_elsewhere(const char *msg, char *why, size_t cap)
{
	const char *kind;
	char        asked[EW_MAX_TEXT];

	if (msg == NULL)
		return NULL;
	if ((kind = ew_check(msg, why, cap)) != NULL || !ew_the_question(msg, asked, sizeof(asked)))
		return kind;
	return ew_check(asked, why, cap);
}
